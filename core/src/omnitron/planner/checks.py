"""Checks that need the installed plugins: a service's health probes, its runtime templates, an app's env.

Templates are rendered against the whole plan (secrets masked): a function may
read other services and apps. A service's runtime templates as rendered here
are digested into its spec hash (:func:`~.hashing.rendered_digest`), so a value
resolved through the plan (another service's port, an app's declared port)
recreates the service when it changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..errors import PlanError, TemplateError
from ..loader import format_validation_error
from ..model import HealthCheck
from ..plan import AppPlan, Plan, PlannedService, context_for, runtime_templates
from ..templating import TemplateContext
from .hashing import rendered_digest
from .inputs import Decl, PlanContext

PORT_PROBES = ("tcp", "http")
"""Built-in probes whose ``port`` must name a declared port."""


def check_health(ctx: PlanContext, decl: Decl, hc: HealthCheck | None, ports: dict[str, int]) -> None:
    """Probe ports name declared ports; plugin probes are installed and their specs valid."""
    if hc is None:
        return
    for probe_name in PORT_PROBES:
        probe = getattr(hc, probe_name)
        if probe is not None and isinstance(probe.port, str) and not probe.port.isdigit() and probe.port not in ports:
            raise PlanError(f"unknown port {probe.port!r}; declared: {', '.join(sorted(ports)) or '(none)'}", file=decl.file, path=f"{decl.path}.healthCheck.{probe_name}.port")
    for extra_name, extra in (hc.model_extra or {}).items():
        probe = ctx.probes.get(extra_name)
        if probe is None:
            raise PlanError(f"unknown health probe {extra_name!r}; known: {', '.join(sorted(ctx.probes))}", file=decl.file, path=f"{decl.path}.healthCheck.{extra_name}")
        try:
            probe.spec_model.model_validate(extra)
        except ValidationError as exc:
            raise format_validation_error(exc, file=decl.file, prefix=f"{decl.path}.healthCheck.{extra_name}", data=extra) from None


def check_command_probe(decl: Decl, hc: HealthCheck | None, provider: str, runs_it: bool) -> None:
    """A command probe runs inside the service: one on a server omnitron does not run (external, existing) could never pass."""
    if hc is None or hc.command is None or runs_it:
        return
    raise PlanError(
        f"a command probe runs inside the service, but provider {provider} connects to a server omnitron does not run "
        f"({hc.command.exec[0]!r} cannot run there); use a tcp, http or plugin probe (e.g. postgres, redis) for this stack",
        file=decl.file,
        path=f"{decl.path}.healthCheck.command",
    )


def check_runtime_templates(ctx: PlanContext, plan: Plan, svc: PlannedService) -> None:
    """The service's own env and command render (secrets masked), or a template error naming the declaration;
    so does the env it gets from the services it uses (``env_from``).

    Sets ``svc.rendered_digest`` from what they rendered to.
    """
    decl = ctx.decls[svc.name]
    context = context_for(svc, app=None, alloc={}, plan=plan)
    rendered: dict[str, str] = {}
    for var, template in runtime_templates(svc).items():
        try:
            rendered[var] = ctx.renderer.render(template, context, variable=var, mask_secrets=True)
        except TemplateError as exc:
            raise TemplateError(exc.message, file=decl.file, path=decl.path) from None
    for var, binding in svc.env_from.items():
        alloc = next((a.values for a in svc.allocations if a.service == binding.service), {})
        bound = context_for(plan.service(binding.service or ""), app=None, alloc=alloc, secrets=binding.secrets, plan=plan)
        rendered[f"env_from.{var}"] = ctx.renderer.render(binding.template, bound, variable=var, mask_secrets=True)
    svc.rendered_digest = rendered_digest(rendered)


def check_app_env(ctx: PlanContext, plan: Plan, app: AppPlan, checked: set[tuple[str, str]] | None = None) -> None:
    """Render ``app``'s env (masked); services a value depends on (``ctx.needs``) become services the app uses.

    An error in the app's own ``env`` names ``omnitron.env.VAR`` in the app's config file; one in the ``env`` a
    service declares names that service's ``env.VAR`` where it is declared.

    :param checked: ``(service, template)`` pairs that render alike for every app
        (:meth:`~omnitron.templating.Renderer.service_only`, no app-owned secrets or allocations), rendered
        once already: skipped, and added to when rendered here.
    """
    contexts: dict[tuple[Any, ...], TemplateContext] = {}  # the variables one service binds share a context
    own_alloc = {a.service for a in app.allocations}
    for var, binding in app.env.items():
        reuse = None
        if checked is not None and binding.service and not binding.secrets and binding.service not in own_alloc and ctx.renderer.service_only(binding.template):
            reuse = (binding.service, binding.template)
            if reuse in checked:
                continue
        key = (binding.service, *sorted(binding.secrets.items()))
        context = contexts.get(key)
        if context is None:
            svc = plan.service(binding.service) if binding.service else None
            alloc = next((a.values for a in app.allocations if a.service == binding.service), {})
            context = contexts[key] = context_for(svc, app=app.name, alloc=alloc, secrets=binding.secrets, plan=plan)
        try:
            ctx.renderer.render(binding.template, context, variable=var, mask_secrets=True)
        except TemplateError as exc:
            if binding.service is None:
                raise TemplateError(exc.message, file=ctx.app_file(ctx.project.apps[app.name]), path=f"omnitron.env.{var}") from None
            decl = ctx.decls.get(binding.service)
            if decl is None:
                raise
            path = f"{decl.path}.env.{var}" if var in decl.entry.env else decl.path
            raise TemplateError(exc.message, file=decl.file, path=path) from None
        app.services.extend(sorted(n for n in context.needs if n not in app.services and n != binding.service))
        if reuse is not None:
            checked.add(reuse)
