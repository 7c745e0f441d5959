"""Stage 5: each app's plan: the services it uses, its env templates, its allocations and its own credentials.

A shorthand's binding wins over the env its service declares; two services
injecting the same variable differently is an error; ``PORT`` says where the
app listens (its declared port, or one allocated for it); the app's own
``env`` wins over all of them. Credentials a binding asks for the app alone are given store
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
    ref = ctx.app_refs[app.name]
    ports = {**app.config.ports, **ref.ports}
    plan = AppPlan(
        name=app.name,
        path=str(app.path),
        services=[s for s in ctx.app_services[app.name] if s in services],
        allocations=allocations,
        generated=generated,
        migrate=list(app.config.migrate) if app.config.migrate else None,
        command=ref.command,
        ports=ports,
        allocated_port=None if ports else ALLOCATED_PORT,
    )
    for var, template in port_env(plan).items():
        env.setdefault(var, EnvBinding(template=template))
    for var, template in app.config.env.items():
        env[var] = EnvBinding.model_construct(template=template)  # the app's own env wins over injected values (validated strings)
    plan.env = dict(sorted(env.items()))
    return plan


ALLOCATED_PORT = "http"
"""The name of the port allocated for an app that declares none."""


def port_env(app: AppPlan) -> dict[str, str]:
    """``PORT`` (the primary port) and, for an app with several ports, ``PORT_<NAME>`` for each."""
    env: dict[str, str] = {}
    primary = app.primary_port()
    if primary is not None:
        env["PORT"] = f"${{port:{primary}}}"
    if len(app.ports) > 1:
        for name in sorted(app.ports):
            env["PORT_" + "".join(c if c.isalnum() else "_" for c in name.upper())] = f"${{port:{name}}}"
    return env


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
        if type(var) is not str or type(template) is not str:  # what a preset binds is not validated by a model
            raise PlanError(f"env {var!r} of service {service!r}: a template must be a string, got {type(template).__name__}", file=file, path=where)
        # built without validation: thousands per plan, every value a checked string
        env[var] = EnvBinding.model_construct(template=template, service=service, secrets=secrets or {})
        env_source[var] = service

    for binding in bindings:
        if binding.service not in services:
            # the shorthand would silently give the app nothing (no DATABASE_URL): say so, as for dependsOn
            raise PlanError(f"uses service {binding.service!r}, which stack {ctx.stack_name!r} disables: enable it, or drop this", file=file, path=binding.where)
        own = owned_credentials(ctx, f"apps/{app.name}", binding.service, binding.credentials, generated)
        for var, template in binding.env.items():
            add(var, template, binding.service, binding.where, own)
        if binding.allocation is not None:
            allocations.append(binding.allocation.model_copy(update={"service": binding.service, "secrets": own}))
    for name in ctx.app_services[app.name]:
        if name in services and name not in bound:
            for var, template in services[name].env.items():
                add(var, template, name, f"omnitron.services.{name}")
    return env, allocations, generated


def owned_credentials(ctx: PlanContext, owner: str, service: str, credentials: dict[str, Any], generated: list[GeneratedSecret]) -> dict[str, str]:
    """Store keys of the credentials generated on ``service`` for one owner alone (``apps/<app>``, ``services/<name>``): logical name -> key."""
    keys: dict[str, str] = {}
    for logical, cred in sorted(credentials.items()):
        key = f"{ctx.project.name}/{ctx.stack_name}/{service}/{owner}/{logical}"
        keys[logical] = key
        generated.append(GeneratedSecret(key=key, length=cred.length, alphabet=cred.alphabet))
    return keys
