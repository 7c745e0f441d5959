"""``omnitron --install-completion [--shell bash|zsh|fish] [-o PATH]``: write the shell's completion script (cyclopts makes it).

Registered by import string, so a normal command loads nothing of completion.
The script knows omnitron's commands and options (plugin commands included);
values such as app, service, stack and backup names come from the project at
TAB time (:mod:`.complete`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter


def install_completion(
    *,
    shell: Annotated[Literal["bash", "zsh", "fish", "powershell"] | None, Parameter(help="The shell (default: the one running omnitron).")] = None,
    output: Annotated[Path | None, Parameter(name=["--output", "-o"], help="Where to write the script (default: where the shell looks for completions).")] = None,
) -> int:
    """Install shell completion: commands, options, and the project's app, service, stack and backup names."""
    from . import app

    path = app.install_completion(shell=shell, output=output)
    print(f"wrote {path}; open a new shell (or source it) to complete omnitron commands")
    return 0
