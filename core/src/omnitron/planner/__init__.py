"""The planner: declarations + stack + installed plugins -> :class:`~omnitron.plan.Plan`.

Pure and deterministic: no I/O, no clock, no randomness. What it needs from
the outside world comes in as arguments (:class:`PlanOptions`): the
environment's network mode, the installed providers as they describe
themselves (with whether each is available), digests of mounted config files.

One module per stage, run in this order by :func:`draft_plan`:

1. :mod:`.declarations`: collect the ecosystem's, the apps' and the shorthands' declarations;
2. :mod:`.services`: expand each one (presets, overrides) and choose its provider (:mod:`.choose`),
   then :mod:`.uses` binds services to what their presets' shorthands ask for (a gateway's own Redis index);
3. :mod:`.ports`: host ports (offsets, collisions);
4. :mod:`.order`: dependencies resolved and ordered;
5. :mod:`.apps`: each app's env bindings, allocations and own credentials;

then, against the whole plan, every app's env and every service's runtime
templates are rendered once (:mod:`.checks`, secrets masked), and
:func:`~.hashing.hash_plan` gives every service its spec hash.
"""

from __future__ import annotations

from typing import Any

from ..loader import LoadedProject
from ..plan import Plan, context_for, runtime_templates
from .apps import plan_app
from .checks import check_app_env, check_runtime_templates
from .choose import validate_choice
from .declarations import collect, default_bucket
from .hashing import hash_plan, mounted_files, spec_hash
from .inputs import PlanContext, PlanOptions
from .order import in_order, resolve_dependencies
from .ports import assign_ports
from .services import plan_services
from .uses import bind_services

__all__ = [
    "PlanOptions", "context_for", "default_bucket", "draft_plan", "hash_plan", "make_plan", "mounted_files",
    "runtime_templates", "spec_hash",
]


def draft_plan(project: LoadedProject, plugins: Any, options: PlanOptions | None = None) -> Plan:
    """Plan ``project`` for a stack, every stage but the spec hashes (see :func:`hash_plan`)."""
    ctx = PlanContext(project, plugins, options or PlanOptions())
    validate_choice(ctx)
    collect(ctx)
    services = plan_services(ctx)
    bind_services(ctx, services)
    resolve_dependencies(ctx, services)
    assign_ports(ctx, services)
    ordered = in_order(ctx, services)
    apps = {name: plan_app(ctx, app, services) for name, app in project.apps.items()}
    plan = Plan(
        project=project.name,
        stack=ctx.stack_name,
        stack_type=ctx.stack.type,
        network_mode=ctx.network_mode(None),
        provider_mode=ctx.provider_choice,
        redis_db_offset=ctx.stack.redis_db_offset,
        services=ordered,
        apps=apps,
    )
    # templates are checked against the whole plan: a function may read other services and apps
    checked: set[tuple[str, str]] = set()  # service-only values checked for one app hold for all
    for app_plan in apps.values():
        check_app_env(ctx, plan, app_plan, checked)
    for svc in ordered:
        check_runtime_templates(ctx, plan, svc)
    return plan


def make_plan(project: LoadedProject, plugins: Any, options: PlanOptions | None = None) -> Plan:
    """Plan ``project`` for a stack, spec hashes included (mounted files digested as ``options.file_digests`` says). Pure."""
    options = options or PlanOptions()
    return hash_plan(draft_plan(project, plugins, options), options.file_digests)
