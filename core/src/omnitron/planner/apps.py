"""Stage 5: each app's plan: the services it uses, its env templates, its allocations and its own credentials.

A shorthand's binding wins over the env its service declares; two services
injecting the same variable differently is an error; the app's own ``env``
wins over both. Credentials a binding asks for the app alone are given store
keys of the app's own. The templates are rendered once the whole plan exists
(:func:`~.checks.check_app_env`), so a bad one fails the plan, not the app.
"""

from __future__ import annotations

from typing import Any

from ..errors import PlanError
from ..loader import LoadedApp
from ..plan import AllocationRequest, AppPlan, EnvBinding, GeneratedSecret, PlannedService
from .inputs import PlanContext


def plan_app(ctx: PlanContext, app: LoadedApp, services: dict[str, PlannedService]) -> AppPlan:
    env, allocations, generated = _injected(ctx, app, services)
    for var, template in app.config.env.items():
        env[var] = EnvBinding(template=template)  # the app's own env wins over injected values
    ref = next(r for r in ctx.eco.apps if r.name == app.name)
    return AppPlan(
        name=app.name,
        path=str(app.path),
        services=[s for s in ctx.app_services[app.name] if s in services],
        env=dict(sorted(env.items())),
        allocations=allocations,
        generated=generated,
        migrate=list(app.config.migrate) if app.config.migrate else None,
        command=ref.command,
        ports={**app.config.ports, **ref.ports},
    )


def _injected(ctx: PlanContext, app: LoadedApp, services: dict[str, PlannedService]) -> tuple[dict[str, EnvBinding], list[AllocationRequest], list[GeneratedSecret]]:
    """The env the app's services inject, its allocations and the credentials generated for it alone."""
    file = ctx.app_file(app)
    env: dict[str, EnvBinding] = {}
    env_source: dict[str, str] = {}
    allocations: list[AllocationRequest] = []
    generated: list[GeneratedSecret] = []
    bindings = ctx.bindings.get(app.name, [])
    bound = {b.service for b in bindings}

    def add(var: str, template: str, service: str, where: str, secrets: dict[str, str] | None = None) -> None:
        if var in env and env[var].template != template:
            raise PlanError(f"env {var} is injected by both {env_source[var]!r} and {service!r}", file=file, path=where)
        env[var] = EnvBinding(template=template, service=service, secrets=secrets or {})
        env_source[var] = service

    for binding in bindings:
        if binding.service not in services:
            # the shorthand would silently give the app nothing (no DATABASE_URL): say so, as for dependsOn
            raise PlanError(f"uses service {binding.service!r}, which stack {ctx.stack_name!r} disables: enable it, or drop this", file=file, path=binding.where)
        own = _app_credentials(ctx, app.name, binding.service, binding.credentials, generated)
        for var, template in binding.env.items():
            add(var, template, binding.service, binding.where, own)
        if binding.allocation is not None:
            allocations.append(binding.allocation.model_copy(update={"service": binding.service, "secrets": own}))
    for name in ctx.app_services[app.name]:
        if name in services and name not in bound:
            for var, template in services[name].env.items():
                add(var, template, name, f"omnitron.services.{name}")
    return env, allocations, generated


def _app_credentials(ctx: PlanContext, app: str, service: str, credentials: dict[str, Any], generated: list[GeneratedSecret]) -> dict[str, str]:
    """Store keys of the credentials generated for ``app`` alone on ``service`` (logical name -> key)."""
    keys: dict[str, str] = {}
    for logical, cred in sorted(credentials.items()):
        key = f"{ctx.project.name}/{ctx.stack_name}/{service}/apps/{app}/{logical}"
        keys[logical] = key
        generated.append(GeneratedSecret(key=key, length=cred.length, alphabet=cred.alphabet))
    return keys
