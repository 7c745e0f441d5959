"""Stage 2b: what services ask of other services through app shorthands (a gateway's own Redis DB index).

A preset names them (:meth:`~omnitron.presets.Preset.shorthands`); each is
bound the way an app's is (:mod:`.declarations`): to the shared service of the
shorthand's preset, added when none is declared, with the owner
``service:<name>`` (:func:`~omnitron.plan.service_owner`), so what is
allocated for the service is never handed to an app. The service depends on
the bound one, its allocation is planned (:attr:`PlannedService.allocations`)
and the binding's env becomes env of its own runtime (``env_from``).
"""

from __future__ import annotations

from typing import Any

from ..errors import PlanError
from ..model import DatabaseRequest, RedisRequest, S3Request
from ..plan import EnvBinding, PlannedService, service_owner
from .apps import owned_credentials
from .declarations import default_bucket, shared_service, shorthand_preset
from .inputs import PlanContext
from .services import plan_service

REQUESTS = {"database": DatabaseRequest, "redis": RedisRequest, "s3": S3Request}


def bind_services(ctx: PlanContext, services: dict[str, PlannedService]) -> None:
    """Bind every service whose preset uses shorthands; shared services added on the way are planned too."""
    for name in list(services):
        svc = services[name]
        preset = ctx.presets.get(svc.preset) if svc.preset else None
        if preset is None:
            continue
        wanted = preset.shorthands(preset.parse_config(svc.config))
        for kind, value in sorted(wanted.items()):
            _bind(ctx, services, svc, kind, value)


def _bind(ctx: PlanContext, services: dict[str, PlannedService], svc: PlannedService, kind: str, value: Any) -> None:
    decl = ctx.decls[svc.name]
    where = f"{decl.path}.config.{kind}"
    model = REQUESTS.get(kind)
    if model is None:
        raise PlanError(f"preset {svc.preset} asks for the unknown shorthand {kind!r}; known: {', '.join(sorted(REQUESTS))}", file=decl.file, path=where)
    request = model() if value is True else model.model_validate(value) if isinstance(value, dict) else value
    if getattr(request, "dedicated", False):
        raise PlanError(f"a service cannot have a dedicated {kind}: it uses the shared one (name it with \"service\")", file=decl.file, path=where)
    if isinstance(request, S3Request) and request.bucket is None:
        request = request.model_copy(update={"bucket": default_bucket(svc.name)})
    bound_preset = shorthand_preset(ctx, kind, getattr(request, "dialect", None), decl.file)
    bound = shared_service(ctx, kind, bound_preset, request.service, decl.file, where)
    if bound not in services:
        planned = plan_service(ctx, ctx.decls[bound])
        if planned is None:
            raise PlanError(f"uses the {kind} service {bound!r}, which stack {ctx.stack_name!r} disables", file=decl.file, path=where)
        services[bound] = planned
    owner = service_owner(svc.name)
    binding = bound_preset.bind_app(owner, request, bound)
    own = owned_credentials(ctx, f"services/{svc.name}", bound, dict(binding.credentials), svc.generated)
    for var, template in binding.env.items():
        svc.env_from[var] = EnvBinding(template=template, service=bound, secrets=own)
    if binding.allocation is not None:
        svc.allocations.append(binding.allocation.model_copy(update={"app": owner, "service": bound, "secrets": own}))
    if bound not in svc.depends_on:
        svc.depends_on.append(bound)
