"""What the commands share: the options every command takes, JSON output, the console.

Plugin commands use these through :mod:`omnitron.api` (``ProjectOpt``,
``StackOpt``, ``JsonOpt``, ``ProviderOpt``, ``print_json``, ``console``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

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


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def console(stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr), wide when not a terminal."""
    import shutil

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(160, shutil.get_terminal_size((160, 24)).columns)
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def report_warnings(project: Any) -> None:
    """Print what loading the project found worth a warning (an app without a config file), on stderr."""
    for warning in project.loaded.warnings:
        print(f"omnitron: warning: {warning}", file=sys.stderr, flush=True)


def load_project(project: Path | None) -> Any:
    from ..project import Project

    return Project.discover(project)


def run_async(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``anyio.run`` of ``fn(*args, **kwargs)``."""
    import anyio

    async def main() -> Any:
        return await fn(*args, **kwargs)

    return anyio.run(main)
