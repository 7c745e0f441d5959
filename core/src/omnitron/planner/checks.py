"""Checks of one service that need the installed plugins: its health probes and its runtime templates."""

from __future__ import annotations

from pydantic import ValidationError

from ..errors import PlanError, TemplateError
from ..loader import format_validation_error
from ..model import HealthCheck
from ..plan import PlannedService, context_for, runtime_templates
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


def check_runtime_templates(ctx: PlanContext, svc: PlannedService) -> None:
    """The service's own env and command render (secrets masked), or a template error naming the declaration."""
    decl = ctx.decls[svc.name]
    context = context_for(svc, app=None, alloc={})
    for var, template in runtime_templates(svc).items():
        try:
            ctx.renderer.render(template, context, variable=var, mask_secrets=True)
        except TemplateError as exc:
            raise TemplateError(exc.message, file=decl.file, path=decl.path) from None
