"""``omnitron config schema`` and ``omnitron config validate``."""

from __future__ import annotations

from typing import Literal

from .options import JsonOpt, ProjectOpt, StackOpt, console, load_project, print_json, report_warnings


def schema(*, which: Literal["ecosystem", "app"] = "ecosystem") -> int:
    """Print ONE JSON Schema (draft 2020-12): of omnitron.toml (--which ecosystem) or of an app's config/default.json (--which app).

    Preset configs are described by the installed plugins' models. Editors:
    ``omnitron config schema --which app > .vscode/omnitron-app.schema.json``
    and map it with ``json.schemas`` (see the README).
    """
    from ..config_schema import app_schema, ecosystem_schema
    from ..plugins import default_manager

    plugins = default_manager()
    print_json(app_schema(plugins) if which == "app" else ecosystem_schema(plugins))
    return 0


def validate(*, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Check the ecosystem, every app's config and that the project plans for every stack.

    A stack that needs a plugin not installed here (a cluster stack's swarm provider on a laptop) is not
    checked, with a warning naming the package; with ``--stack`` it is an error.
    """
    from ..errors import PluginError

    proj = load_project(project)
    loaded = proj.loaded
    stacks = [stack] if stack else sorted(loaded.ecosystem.stacks)
    every = {name: True for name in proj.plugins.providers}  # plan as if every installed provider could run here
    plans = {}
    for name in stacks:
        try:
            plans[name] = proj.plan(name, available=every)
        except PluginError as exc:
            if stack:
                raise
            loaded.warnings.append(f"stack {name} not checked: {exc}")
    if json:
        print_json({"ok": True, "project": proj.name, "config": str(proj.config_file), "apps": sorted(loaded.apps), "stacks": {s: len(p.services) for s, p in plans.items()}, "warnings": loaded.warnings})
        return 0
    report_warnings(proj)
    summary = ", ".join(f"{s}: {len(p.services)} services" for s, p in plans.items())
    console().print(f"[green]ok[/green] {proj.config_file.name}: {len(loaded.apps)} apps; {summary}")
    return 0
