"""What the commands share: the ``--project`` option, JSON output, tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

ProjectOpt = Annotated[Path | None, Parameter(name=["--project", "-p"], help="Project directory or config file (default: found from the current directory up; env OMNITRON_PROJECT).")]
StackOpt = Annotated[str | None, Parameter(name=["--stack", "-s"], help="Stack to use (default: the ecosystem's defaultStack).")]
JsonOpt = Annotated[bool, Parameter(name="--json", negative="", help="Print JSON for scripts.")]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def console(stderr: bool = False):
    from rich.console import Console

    import shutil

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(160, shutil.get_terminal_size((160, 24)).columns)
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def load_project(project: Path | None):
    from ..project import Project

    return Project.discover(project)
