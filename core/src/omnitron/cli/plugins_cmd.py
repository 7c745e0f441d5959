"""``omnitron plugins list`` and ``omnitron plugins new``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter

from .options import JsonOpt, console, print_json


def list_plugins(*, json: JsonOpt = False) -> int:
    """List installed plugins: name, version, hooks and what each provides."""
    from ..plugins import default_manager

    pm = default_manager()
    infos = pm.plugin_infos()
    if json:
        print_json([i.as_dict() for i in infos])
        return 0
    from rich.table import Table

    table = Table(title="omnitron plugins", show_lines=False)
    table.add_column("name")
    table.add_column("distribution")
    table.add_column("version")
    table.add_column("provides")
    table.add_column("hooks")
    for info in infos:
        provides = "; ".join(f"{k}: {', '.join(v)}" for k, v in info.provides.items())
        table.add_row(info.name, info.distribution, info.version, provides, ", ".join(h.removeprefix("omnitron_") for h in info.hooks))
    console().print(table)
    for err in pm.load_errors:
        console(stderr=True).print(f"warning: {err}")
    return 0


KindOpt = Annotated[Literal["preset", "provider"], Parameter(name="--kind", help="What the plugin adds: a preset or a provider.")]
DirOpt = Annotated[Path, Parameter(name="--dir", help="Where to write the package (default: the current directory).")]


def new_plugin(name: str, /, *, kind: KindOpt = "preset", dir: DirOpt = Path(".")) -> int:
    """Write the package omnitron-NAME: the plugin (importing only omnitron.api), its tests, pyproject.toml, README.md.

    :param name: The plugin's name, e.g. acme-queue.
    """
    from ..scaffold import new_plugin as write

    target = write(name, kind, dir)
    print(f"wrote {target} ({kind}); test it: pip install -e {target}[test] && pytest {target / 'tests'}")
    return 0
