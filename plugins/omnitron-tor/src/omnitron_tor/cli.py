"""``omnitron infra tor [--json]``: every hidden service with its hostname, virtual port and target.

Hostnames are the facts recorded by the last ``infra up`` (``<pending>`` before
one); targets are shown as declared and resolved through the plan.
"""

from __future__ import annotations

from typing import Any

from omnitron.api import PENDING, JsonOpt, ProjectOpt, StackOpt, console, load_stack, print_json, recorded_facts

from .config import TorConfig
from .functions import PRESET, fact_key
from .targets import resolve


def hidden_services(plan: Any, facts: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """One entry per hidden service of every tor service in ``plan`` (camelCase keys, for ``--json``)."""
    out: list[dict[str, Any]] = []
    for svc in plan.services:
        if svc.preset != PRESET:
            continue
        config = TorConfig.model_validate(svc.config)
        for hs in config.hidden_services:
            try:
                resolved = resolve(hs.target, plan)
            except LookupError as exc:
                resolved = f"<{exc.args[0]}>"
            out.append({
                "name": hs.name,
                "service": svc.name,
                "hostname": facts.get(svc.name, {}).get(fact_key(hs.name), PENDING),
                "virtualPort": hs.virtual_port,
                "target": hs.target,
                "resolvedTarget": resolved,
            })
    return out


def tor(*, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """List the hidden services: hostname, virtual port, target (as declared and resolved)."""
    loaded = load_stack(project, stack)
    plan = loaded.plan
    entries = hidden_services(plan, recorded_facts(loaded.project.state_dir, plan.stack))
    if json:
        print_json({"project": plan.project, "stack": plan.stack, "hiddenServices": entries})
        return 0
    out = console()
    if not entries:
        out.print(f"stack {plan.stack} of project {plan.project} declares no hidden service")
        return 0
    from rich.table import Table

    table = Table(title=f"hidden services: project {plan.project}, stack {plan.stack}")
    for column in ("name", "service", "hostname", "virtual port", "target"):
        table.add_column(column, overflow="fold")
    for e in entries:
        target = e["target"] if e["target"] == e["resolvedTarget"] else f"{e['target']} -> {e['resolvedTarget']}"
        table.add_row(e["name"], e["service"], e["hostname"], str(e["virtualPort"]), target)
    out.print(table)
    if any(e["hostname"] == PENDING for e in entries):
        out.print("<pending>: no hostname recorded yet; `omnitron infra up` makes the keys")
    return 0
