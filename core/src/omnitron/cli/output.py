"""What commands print and how they run async work, without cyclopts: JSON output, the console, load warnings.

:mod:`.options` re-exports these beside the option types; ``infra up``'s direct path (:mod:`.infra_up`) uses them
without importing cyclopts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (values JSON cannot hold as their ``str``)."""
    core = sys.modules.get("pydantic_core")
    if core is not None and _plain(data):
        # loaded already (a plan was made): the same text as json's indenting encoder, many times faster
        sys.stdout.write(core.to_json(data, indent=2, ensure_ascii=True).decode() + "\n")
        return
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def _plain(data: Any) -> bool:
    """Only what both encoders write the same way: str-keyed dicts, lists, strings, bools, None, small ints, plain floats."""
    kind = type(data)
    if kind is dict:
        return all(type(k) is str and "\x7f" not in k and _plain(v) for k, v in data.items())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in data)
    if kind is int:
        return -(2**63) <= data < 2**63
    if kind is float:
        return data == data and "e" not in repr(data) and "inf" not in repr(data)
    if kind is str:
        return "\x7f" not in data  # json escapes DEL, pydantic-core does not
    return kind is bool or data is None


def console(stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr); plain text, without loading rich, when that is not a terminal.

    Markup (``[bold]...[/bold]``) is printed as rich prints it to a file: without the tags.
    ``FORCE_COLOR`` (rich's own switch for colours in a pipe) gives the rich console.
    """
    import os

    stream = sys.stderr if stderr else sys.stdout
    if not stream.isatty() and not os.environ.get("FORCE_COLOR"):
        from .plain import PlainConsole

        return PlainConsole(stderr)
    from .plain import rich_console

    return rich_console(stderr)


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
