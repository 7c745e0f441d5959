"""Rendering apps' env: masked for display, real (with secrets) for injection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plan import context_for
from .templating import MASK, Renderer, TemplateContext

if TYPE_CHECKING:
    from .plan import Plan
    from .project import Project


def render_app_env(
    plan: Plan,
    app: str,
    renderer: Renderer,
    *,
    secret=None,
    allocations: dict[str, dict[str, str]] | None = None,
    mask_secrets: bool = False,
    facts: dict[str, dict[str, str]] | None = None,
    app_ports: dict[str, int] | None = None,
    shared: dict[tuple[str, str, bool], str] | None = None,
) -> dict[str, str]:
    """``app``'s env vars, rendered.

    :param secret: store key -> value; ``None`` renders secrets as ``****``.
    :param allocations: service -> ``${alloc:KEY}`` values for this app (from the state store).
    :param facts: service -> facts recorded in the state store (``<pending>`` where missing).
    :param app_ports: the ports allocated for the app (recorded; ``PORT`` is ``<pending>`` before).
    :param shared: values that render alike for every app (:meth:`~omnitron.templating.Renderer.service_only`
        templates of a service bound without app-owned secrets or allocations), kept across calls with the same
        ``plan``, ``renderer`` and ``secret``.
    """
    app_plan = plan.apps[app]
    allocations = allocations or {}
    out: dict[str, str] = {}
    contexts: dict[tuple[Any, ...], TemplateContext] = {}  # the variables one service binds share a context
    mask = mask_secrets or secret is None
    own_alloc = {a.service for a in app_plan.allocations}
    for var, binding in app_plan.env.items():
        reuse = None
        if shared is not None and binding.service and not binding.secrets and binding.service not in own_alloc and not allocations.get(binding.service) and renderer.service_only(binding.template):
            reuse = (binding.service, binding.template, mask)
            if reuse in shared:
                out[var] = shared[reuse]
                continue
        key = (binding.service, *sorted(binding.secrets.items()))
        ctx = contexts.get(key)
        if ctx is None:
            svc = plan.service(binding.service) if binding.service else None
            alloc = dict(next((a.values for a in app_plan.allocations if a.service == binding.service), {}))
            alloc.update(allocations.get(binding.service or "", {}))
            ctx = contexts[key] = context_for(svc, app=app, alloc=alloc, secret=secret or _masked, secrets=binding.secrets, plan=plan, facts=facts, app_ports=app_ports)
        out[var] = renderer.render(binding.template, ctx, variable=var, mask_secrets=mask)
        if reuse is not None:
            shared[reuse] = out[var]
    return out


def _masked(key: str) -> str:
    return MASK


def render_plan_env(project: Project, plan: Plan, *, show_secrets: bool = False) -> dict[str, dict[str, str]]:
    """Every app's env for display (allocations as recorded once ``up`` made them): secrets masked unless ``show_secrets``."""
    from .state import recorded_allocations, recorded_app_ports, recorded_facts

    renderer = Renderer(project.plugins.template_functions)
    secret = None
    if show_secrets:
        from .secrets.resolve import resolver_for

        secret = resolver_for(project)
    facts = recorded_facts(project.state_dir, plan.stack)
    allocations = recorded_allocations(project.state_dir, plan.stack, plan.allocation_requests())
    ports = recorded_app_ports(project.state_dir, plan.stack)
    shared: dict[tuple[str, str, bool], str] = {}
    return {name: render_app_env(plan, name, renderer, secret=secret, facts=facts, allocations=allocations.get(name), app_ports=ports.get(name), shared=shared) for name in plan.apps}
