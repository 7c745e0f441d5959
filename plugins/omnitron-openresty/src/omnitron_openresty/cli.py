"""``omnitron infra gateway show [--service NAME] [--json]``: what the generator makes of the plan, now.

It reads the recorded allocations and addresses (nothing is written): the
same files ``infra up`` writes and the gateway serves once reloaded.
"""

from __future__ import annotations

from typing import Any, Literal

from omnitron.api import ConfigError, JsonOpt, ProjectOpt, StackOpt, console, load_stack, print_json

from .preset import OpenrestyPreset


def _recorded(stack: Any) -> tuple[dict, dict]:
    """Allocated app ports and recorded app addresses of the stack, without creating a state store."""
    from omnitron.api import StateStore

    if not (stack.project.state_dir / "state.db").exists():
        return {}, {}
    with StateStore(stack.project.state_dir) as state:
        return state.app_ports(stack.plan.stack), state.app_endpoints(stack.plan.stack)


def pick_gateway(plan: Any, service: str | None) -> Any:
    gateways = [s for s in plan.services if s.preset == OpenrestyPreset.name]
    if service is not None:
        found = next((s for s in gateways if s.name == service), None)
        if found is None:
            raise ConfigError(f"no openresty service named {service!r}; openresty services: {', '.join(s.name for s in gateways) or '(none)'}")
        return found
    if len(gateways) != 1:
        raise ConfigError(f"stack {plan.stack} has {len(gateways) or 'no'} openresty services" + (f" ({', '.join(s.name for s in gateways)}): say which with --service" if gateways else ""))
    return gateways[0]


def gateway(action: Literal["show"] = "show", /, *, project: ProjectOpt = None, stack: StackOpt = None, service: str | None = None, json: JsonOpt = False) -> int:
    """show: print the gateway's generated files (nginx.conf, upstreams, server snippet, Lua map).

    :param service: the gateway service, when the stack has several.
    """
    from .runtime import build

    loaded = load_stack(project, stack)
    plan = loaded.plan
    svc = pick_gateway(plan, service)
    allocated, recorded = _recorded(loaded)
    built = build(svc, plan, allocated, recorded)
    if json:
        print_json({
            "project": plan.project,
            "stack": plan.stack,
            "service": svc.name,
            "generation": built.generated.generation,
            "filesDir": str(built.layout.files_dir),
            "configDir": str(built.layout.config_dir) if built.layout.config_dir else None,
            "upstreams": {u.name: u.address for u in built.generated.upstreams},
            "files": built.generated.files,
        })
        return 0
    out = console()
    for rel, text in built.generated.files.items():
        out.print(f"# ---- {rel}", style="bold", markup=False, highlight=False)
        out.print(text, markup=False, highlight=False, end="" if text.endswith("\n") else "\n")
    return 0
