"""``omnitron config schema`` and ``omnitron config validate``."""

from __future__ import annotations

from typing import Literal

from .options import JsonOpt, ProjectOpt, StackOpt, console, load_project, print_json


def schema(which: Literal["ecosystem", "app", "all"] = "all") -> int:
    """Print the JSON Schema of omnitron.config.py/omnitron.toml (ecosystem) and config/default.json (app)."""
    from ..model import AppConfig, EcosystemConfig
    from ..model.docs import json_schema

    app_schema = {
        "type": "object",
        "properties": {"omnitron": json_schema(AppConfig)},
        "title": "config/default.json",
    }
    eco = json_schema(EcosystemConfig)
    out = {"ecosystem": eco, "app": app_schema}
    print_json(out if which == "all" else out[which])
    return 0


def validate(*, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Check the ecosystem, every app's config and that the project plans for every stack."""
    proj = load_project(project)
    loaded = proj.loaded
    stacks = [stack] if stack else sorted(loaded.ecosystem.stacks)
    every = {name: True for name in proj.plugins.providers}  # plan as if every installed provider could run here
    plans = {s: proj.plan(s, available=every) for s in stacks}
    if json:
        print_json({"ok": True, "project": proj.name, "config": str(proj.config_file), "apps": sorted(loaded.apps), "stacks": {s: len(p.services) for s, p in plans.items()}})
        return 0
    summary = ", ".join(f"{s}: {len(p.services)} services" for s, p in plans.items())
    console().print(f"[green]ok[/green] {proj.config_file.name}: {len(loaded.apps)} apps; {summary}")
    return 0
