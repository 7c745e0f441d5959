"""Stage 5: each app's plan: the services it uses, its env templates and its allocations.

A shorthand's binding wins over the env its service declares; two services
injecting the same variable differently is an error. Every template is
rendered once here (secrets masked), so a bad one fails the plan, not the app.
"""

from __future__ import annotations

from ..errors import PlanError
from ..loader import LoadedApp
from ..plan import AllocationRequest, AppPlan, EnvBinding, PlannedService, context_for
from .inputs import PlanContext


def plan_app(ctx: PlanContext, app: LoadedApp, services: dict[str, PlannedService]) -> AppPlan:
    file = ctx.app_file(app)
    env: dict[str, EnvBinding] = {}
    env_source: dict[str, str] = {}
    allocations: list[AllocationRequest] = []
    used = [s for s in ctx.app_services[app.name] if s in services]
    bindings = ctx.bindings.get(app.name, [])
    bound = {b.service for b in bindings}

    def add(var: str, template: str, service: str, where: str) -> None:
        if var in env and env[var].template != template:
            raise PlanError(f"env {var} is injected by both {env_source[var]!r} and {service!r}", file=file, path=where)
        env[var] = EnvBinding(template=template, service=service)
        env_source[var] = service

    for binding in bindings:
        if binding.service not in services:
            continue
        for var, template in binding.env.items():
            add(var, template, binding.service, binding.where)
        if binding.allocation is not None:
            allocations.append(binding.allocation.model_copy(update={"service": binding.service}))
    for name in used:
        if name not in bound:
            for var, template in services[name].env.items():
                add(var, template, name, f"omnitron.services.{name}")
    for var, env_binding in env.items():
        svc = services[env_binding.service] if env_binding.service else None
        alloc = next((a.values for a in allocations if a.service == env_binding.service), {})
        ctx.renderer.render(env_binding.template, context_for(svc, app=app.name, alloc=alloc), variable=var, mask_secrets=True)
    ref = next(r for r in ctx.eco.apps if r.name == app.name)
    return AppPlan(
        name=app.name,
        path=str(app.path),
        services=used,
        env=dict(sorted(env.items())),
        allocations=allocations,
        migrate=list(app.config.migrate) if app.config.migrate else None,
        command=ref.command,
    )
