"""What the commands share: the options every command takes, JSON output, the console.

Plugin commands use these through :mod:`omnitron.api` (``ProjectOpt``,
``StackOpt``, ``JsonOpt``, ``ProviderOpt``, ``print_json``, ``console``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from .output import console, load_project, print_json, report_warnings, run_async


def completes(kind: str) -> Any:
    """A completer of the project's ``stacks``, ``apps``, ``services`` or ``backups`` (imported only at TAB time)."""

    def completer(context: Any) -> list[str]:
        from .complete import names

        return names(kind, context)

    return completer


ProjectOpt = Annotated[Path | None, Parameter(name=["--project", "-p"], help="Project directory or config file (default: found from the current directory up; env OMNITRON_PROJECT).")]
StackOpt = Annotated[str | None, Parameter(name=["--stack", "-s"], help="Stack to use (default: the ecosystem's defaultStack).", completer=completes("stacks"))]
AppArg = Annotated[str, Parameter(completer=completes("apps"))]
"""An app of the project, completed by the shell."""
ServiceArg = Annotated[str, Parameter(completer=completes("services"))]
"""A service of the stack, completed by the shell."""
JsonOpt = Annotated[bool, Parameter(name="--json", negative="", help="Print JSON for scripts.")]
ProviderOpt = Annotated[
    str | None,
    Parameter(name="--provider", help="Override the stack's provider choice: auto (the best available installed provider for each service) or an installed provider's name."),
]
ShowSecretsOpt = Annotated[bool, Parameter(name="--show-secrets", negative="", help="Print secret values instead of ****.")]
YesOpt = Annotated[bool, Parameter(name=["--yes", "-y"], negative="", help="Really do it.")]

__all__ = ["AppArg", "JsonOpt", "ProjectOpt", "ProviderOpt", "ServiceArg", "ShowSecretsOpt", "StackOpt", "YesOpt", "completes", "console", "load_project", "print_json", "report_warnings", "run_async"]
