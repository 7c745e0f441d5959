"""Bringing a stack up and down, resetting it, and reading its state: what ``infra up|down|reset|status|logs`` do.

No printing here: progress goes through the ``progress`` callback
(``(service, phase, detail)``, see :mod:`omnitron.engine.progress`), results
come back as data. The CLI, plugin commands and the daemon call these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .loading import Stack, remember_provider

if TYPE_CHECKING:
    from ..engine.provision import UpResult
    from ..engine.teardown import DownResult
    from ..project import Project
    from ..providers import InfrastructureState, ProgressFn


async def bring_up(stack: Stack, *, services: list[str] | None = None, apps: list[str] | None = None, progress: ProgressFn | None = None, remember: bool = True) -> UpResult:
    """Provision ``services`` (all when ``None``) and what they depend on; never raises for a failed service.

    :param apps: apps whose allocations are made (all when ``None``).
    :param remember: on success, remember the provider ``auto`` chose (later commands find the stack there).
    :returns: per service what happened (``result.ok`` false when a critical one failed).
    """
    import anyio

    from ..engine.provision import up
    from . import head_start

    head_starts = await anyio.to_thread.run_sync(lambda: head_start.prepare(stack, whole=services is None))
    result = await up(stack.project, stack.plan, services=services, apps=apps, progress=progress, check=False, head_starts=head_starts)
    if result.ok:
        head_start.remember(stack, head_starts.offers, {name: o.seconds for name, o in result.services.items()})
    if services is None:
        keep(stack, True)
    if remember and result.ok:
        chosen = chosen_provider(stack)
        if chosen is not None:
            remember_provider(stack.project, stack.name, chosen)
    return result


def chosen_provider(stack: Stack) -> str | None:
    """The one provider ``auto`` may choose that runs this stack's managed services, if there is exactly one."""
    used = {s.provider for s in stack.plan.services if stack.manages(s.provider) and (d := stack.describe(s.provider)) is not None and d.auto_priority is not None}
    return used.pop() if len(used) == 1 else None


async def bring_down(stack: Stack, *, volumes: bool = False, progress: ProgressFn | None = None) -> DownResult:
    """Stop and remove everything of the stack (declared or orphaned); ``volumes`` deletes data and forgets allocations."""
    from ..engine.teardown import down

    keep(stack, False)  # first: a daemon's pass that starts from now on leaves the stack alone
    result = await down(stack.project, stack.plan, volumes=volumes, progress=progress)
    remember_provider(stack.project, stack.name, None)
    return result


def keep(stack: Stack, kept: bool) -> None:
    """Whether the project's daemon keeps ``stack`` as declared (a whole-stack ``up`` says yes, ``down`` no)."""
    from ..state import StateStore

    with StateStore(stack.project.state_dir) as state:
        state.set_kept(stack.name, kept)


def kept_stacks(project: Project) -> list[str]:
    """The stacks of ``project`` its daemon keeps (brought up, not brought down)."""
    if not (project.state_dir / "state.db").exists():
        return []
    from ..state import StateStore

    with StateStore(project.state_dir) as state:
        return state.kept_stacks()


async def reset(stack: Stack, *, progress: ProgressFn | None = None, on_wiped: Callable[[DownResult], None] | None = None) -> UpResult:
    """DESTRUCTIVE: delete every service's data of the stack, then provision it again."""
    from ..engine.locking import locked
    from ..engine.provision import up
    from ..engine.teardown import down

    async with locked(stack.project, progress):  # no daemon's pass in between: it would provision the wiped stack
        wiped = await down(stack.project, stack.plan, volumes=True)
        if on_wiped is not None:
            on_wiped(wiped)
        return await up(stack.project, stack.plan, progress=progress, check=False)


def what_reset_destroys(stack: Stack) -> list[str]:
    """One line per service: what ``reset`` deletes of it (its data, what is allocated on it, the facts recorded of it), or that it is not touched."""
    from ..state import StateStore

    plan = stack.plan
    lines: list[str] = []
    with StateStore(stack.project.state_dir) as state:
        allocations = state.allocations(plan.stack)
        facts = state.facts(plan.stack)
        for svc in plan.services:
            descriptor = stack.describe(svc.provider)
            if descriptor is None or not descriptor.manages_lifecycle:
                lines.append(f"{svc.name}: {svc.provider} ({svc.host}), not touched")
                continue
            held = [f"{a['kind']} {a['name']} ({a['app']})" for a in allocations if a["service"] == svc.name]
            indexed = {(a["app"]) for a in allocations if a["service"] == svc.name and a["kind"] == "redis_db"}
            held += [f"index {i} ({o})" for o, i in sorted(state.indexes(plan.stack, svc.name).items(), key=lambda x: x[1]) if o not in indexed]
            line = f"{svc.name} ({svc.provider}): {descriptor.data_noun}" + (f", with {', '.join(held)}" if held else "")
            if facts.get(svc.name):
                line += "; gone for good with it: " + ", ".join(f"{key} {value}" for key, value in facts[svc.name].items())
            lines.append(line)
    return lines


async def stack_status(stack: Stack, *, probe: bool = True) -> InfrastructureState:
    """Every planned service's state (and orphans), probed once for health; ``ready`` when every critical one is."""
    from ..engine.inspect import status

    return await status(stack.project, stack.plan, probe=probe)


async def stream_logs(stack: Stack, service: str | None, *, follow: bool, tail: int | None, write: Callable[[str], None]) -> None:
    """Log lines of one service, or of every managed service prefixed by its name, to ``write``."""
    from ..engine.inspect import logs
    from ..engine.session import Session

    async with Session(stack.project, stack.plan) as session:
        await logs(session, service, follow=follow, tail=tail, write=write)
