"""Stage 4: dependencies: resolved to planned names, checked, and put in order (a cycle is an error)."""

from __future__ import annotations

from ..errors import PlanError
from ..plan import PlannedService
from .inputs import PlanContext


def resolve_dependencies(ctx: PlanContext, services: dict[str, PlannedService]) -> None:
    """``dependsOn`` names become planned names (an app's own ``app/svc`` first); unknown or disabled ones are errors."""
    for svc in services.values():
        for dep in svc.depends_on:
            target = _resolve(svc, dep, services)
            if target is None:
                decl = ctx.decls[svc.name]
                if dep in ctx.decls or (svc.app and f"{svc.app}/{dep}" in ctx.decls):
                    raise PlanError(f"depends on {dep!r}, which stack {ctx.stack_name!r} disables", file=decl.file, path=f"{decl.path}.dependsOn")
                raise PlanError(f"depends on unknown service {dep!r}", file=decl.file, path=f"{decl.path}.dependsOn")
            svc.depends_on = [target if d == dep else d for d in svc.depends_on]


def _resolve(svc: PlannedService, dep: str, services: dict[str, PlannedService]) -> str | None:
    if svc.app and f"{svc.app}/{dep}" in services:
        return f"{svc.app}/{dep}"
    return dep if dep in services else None


def in_order(ctx: PlanContext, services: dict[str, PlannedService]) -> list[PlannedService]:
    """Every service after everything it depends on; ties by name, so the order is stable."""
    ordered: list[PlannedService] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = trail[trail.index(name) :] + [name]
            decl = ctx.decls[name]
            raise PlanError(f"dependency cycle: {' -> '.join(cycle)}", file=decl.file, path=f"{decl.path}.dependsOn")
        state[name] = 1
        for dep in sorted(services[name].depends_on):
            visit(dep, trail + [name])
        state[name] = 2
        ordered.append(services[name])

    for name in sorted(services):
        visit(name, [])
    return ordered
