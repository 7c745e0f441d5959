"""``up``: provision services, gate them on health, prepare them, allocate per-app resources.

Independent services start in parallel; a service waits for the services it
depends on to be healthy (and prepared) before it starts. For each service:

1. its runtime templates are rendered with real secrets into a
   :class:`~omnitron.providers.RuntimeSpec` and the provider ensures it runs
   (recreating it only when its spec hash changed); a provider that chose
   where it runs (a healthy bare-metal server) reports that address, which
   the service then uses and the state store records (:mod:`.addresses`);
2. the health gate waits for every declared probe (see :mod:`.gate`);
3. the preset prepares it (databases, extensions, buckets) and the facts it
   returns (a hostname known only now) are recorded in the state store;
4. each app's allocation on it is made, idempotently, and recorded in the
   state store, where env rendering reads it back (and so is what a service
   using it through its preset's shorthands needs: a gateway's own Redis DB
   index, made before that service starts);
5. the preset's periodic chore runs once (:meth:`~omnitron.presets.Preset.maintain`):
   it applies a changed config the service reloads (see :mod:`.maintenance`).

Before the provider is asked, the preset writes what the service reads when
it starts (:meth:`~omnitron.presets.Preset.materialise`). Ports are allocated
first for the apps that declare none (:mod:`.appports`).

What a preset warns about (``ServiceHandle.warn``) is in :attr:`UpResult.warnings`.

A service's ``startupTimeout`` counts from when its provider has started it
(pulling an image does not eat into it). A service its provider reports dead
while omnitron waits fails at once. A provider whose own wait for the service
runs out raises :class:`~omnitron.errors.StartupTimeout`, and the error says
what to do next; any other error of the provider is reported as it is.

Before anything starts, every provider must be installed and every host port
free (or held by this stack's own service). Meanwhile each provider begins
what all of its services will need (:meth:`~omnitron.providers.Provider.begin_up`:
the docker provider's network), so the first service's start does not wait for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import OmnitronError, ProvisionError, StartupTimeout
from ..tasks import task_group
from .allocating import allocate_all, record_allocation
from .appports import ensure_app_ports
from .gate import CriticalsDone, HealthPolicy, checks_for, not_ready_message, not_waited_for, slow_start_hint, wait_healthy
from .maintenance import maintain_one
from .select import provider_classes, selected
from .teardown import run_by_other_providers

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..project import Project
    from ..providers import ContainerState, ProgressFn, Provider
    from .head_start import HeadStarts
    from .session import Session


@dataclass
class ServiceOutcome:
    """What happened to one service during ``up``."""

    name: str
    provider: str
    critical: bool
    status: str = "pending"
    """``ready``, ``failed`` (blocks), ``degraded`` (non-critical, not ready) or ``pending``."""
    state: ContainerState | None = None
    probe: str | None = None
    """Detail of the last health probe."""
    note: str | None = None
    """What the health probes learned about the service once it was healthy (:attr:`~omnitron.health.ProbeResult.note`)."""
    error: str | None = None
    seconds: float = 0.0
    allocations: dict[str, dict[str, str]] = field(default_factory=dict)
    """App -> values allocated for it on this service."""
    blocked_by: str | None = None
    """The dependency whose failure kept this service from starting."""
    warnings: list[str] = field(default_factory=list)
    """What the preset warned about while preparing it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "provider": self.provider,
            "critical": self.critical,
            "seconds": round(self.seconds, 3),
            "probe": self.probe,
            "error": self.error,
            "allocations": self.allocations,
            "state": self.state.model_dump(mode="json", by_alias=True) if self.state is not None else None,
        }


@dataclass
class UpResult:
    """Outcome of :func:`up` for every service it handled."""

    project: str
    stack: str
    services: dict[str, ServiceOutcome] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.status in ("ready", "degraded") for o in self.services.values())

    @property
    def healthy(self) -> dict[str, str | None]:
        """Service -> its probes' note, of each service found healthy and ready (what ``infra status`` need not probe again)."""
        return {n: o.note for n, o in self.services.items() if o.status == "ready"}

    @property
    def failures(self) -> list[ServiceOutcome]:
        return [o for o in self.services.values() if o.status == "failed"]

    def error_message(self) -> str:
        # a service failing only because its dependency failed is implied by that dependency's error
        primary = [o for o in self.failures if o.blocked_by is None] or self.failures
        return " | ".join(o.error or f"service {o.name} failed" for o in primary)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "services": {n: o.as_dict() for n, o in self.services.items()},
            "warnings": self.warnings,
        }


async def up(
    project: Project,
    plan: Plan,
    *,
    services: list[str] | None = None,
    apps: list[str] | None = None,
    progress: ProgressFn | None = None,
    check: bool = True,
    session: Session | None = None,
    best_effort: bool = False,
    head_starts: HeadStarts | None = None,
) -> UpResult:
    """Provision ``services`` (all when ``None``) and what they depend on.

    :param apps: apps whose allocations are made (all apps of the plan when ``None``).
    :param progress: ``(service, phase, detail)``; phases: pending, pulling, creating,
        starting, waiting, preparing, ready, failed, degraded.
    :param check: raise :class:`~omnitron.errors.ProvisionError` when a critical service fails.
    :param session: an open :class:`~omnitron.engine.session.Session` to reuse.
    :param best_effort: an app's gate: non-critical services are waited for no longer than the critical ones
        (those not healthy by then are degraded, and go on starting).
    :param head_starts: the services started ahead of this ``up``, and whether to collect offers for the next
        (:class:`~omnitron.engine.head_start.HeadStarts`; default: none, none).
    :raises PluginError: a provider the plan needs is not installed.
    :raises ProvisionError: a host port is taken by something else, or (``check``) a critical service failed.
    """
    from .locking import locked
    from .session import Session

    todo = selected(plan, services)
    provider_classes(project.plugins, todo)
    if session is None:
        async with Session(project, plan, progress=progress) as own:
            return await up(project, plan, services=services, apps=apps, progress=progress, check=check, session=own, best_effort=best_effort, head_starts=head_starts)
    if head_starts is not None:
        session.head_starts = head_starts
    async with locked(project, session.progress):
        # a whole-stack up: what the plan no longer declares would hold its ports
        result = await _up_locked(session, todo, apps if apps is not None else list(plan.apps), orphans=services is None, criticals=CriticalsDone(todo) if best_effort else None)
    if check and not result.ok:
        raise ProvisionError(result.error_message())
    return result


async def _up_locked(session: Session, todo: list[PlannedService], apps: list[str], *, orphans: bool, criticals: CriticalsDone | None) -> UpResult:
    """The checks before anything starts, then every service at once; the providers begin their shared work meanwhile."""
    import anyio

    plan = session.plan
    started = time.monotonic()
    result = UpResult(plan.project, plan.stack)
    for svc in todo:
        result.services[svc.name] = ServiceOutcome(svc.name, svc.provider, svc.critical)
        session.progress(svc.name, "pending", "")
    done = {svc.name: anyio.Event() for svc in todo}
    refused: Exception | None = None
    async with task_group() as tg:
        try:
            await begin(session, todo, tg)
            await _before_start(session, todo, apps, orphans=orphans)
        except Exception as exc:  # raised once the providers' early work is cancelled
            refused = exc
            tg.cancel_scope.cancel()
        else:
            for svc in todo:
                tg.start_soon(_provision_service, session, svc, apps, result, done, criticals)
    if refused is not None:
        raise refused
    result.seconds = time.monotonic() - started
    result.warnings.extend(f"service {o.name}: {w}" for o in result.services.values() for w in o.warnings)
    result.warnings.extend(f"{o.error} (non-critical: continuing without it)" for o in result.services.values() if o.status == "degraded")
    summary = {n: o.status for n, o in result.services.items()}
    session.state.log_event(plan.stack, "up", json.dumps(summary, sort_keys=True))
    if len(todo) == len(plan.services) and result.ok:
        session.state.mark_reconciled(plan.stack)
    return result


async def _before_start(session: Session, todo: list[PlannedService], apps: list[str], *, orphans: bool) -> None:
    """What must hold before any service starts: orphans gone, credentials generated, app ports chosen, host ports free."""
    plan = session.plan
    if orphans:
        from .teardown import remove_orphans

        await remove_orphans(session)
    if any(svc.generated for svc in todo) or any(plan.apps[a].generated for a in apps if a in plan.apps):
        session.ensure_generated()
    ensure_app_ports(session, list(plan.apps))  # every app: a gateway's map names them all, whichever runs first
    await check_ports(session, todo)


async def begin(session: Session, services: list[PlannedService], tg: Any) -> None:
    """Let each provider begin, in ``tg``, what all of its ``services`` will need (a network), while the checks run.

    Nothing it does may fail the up: an error is met again, and reported, by
    the ``ensure`` that needs the same thing.
    """
    by_provider: dict[str, list[PlannedService]] = {}
    for svc in services:
        if session.manages(svc.provider):
            by_provider.setdefault(svc.provider, []).append(svc)
    for name, svcs in by_provider.items():
        provider = await session.provider(name)
        tg.start_soon(_begin_quietly, provider, svcs)


async def _begin_quietly(provider: Provider, services: list[PlannedService]) -> None:
    try:
        await provider.begin_up(services)
    except Exception:  # its ensure meets it again and says what failed
        return


async def check_ports(session: Session, services: list[PlannedService]) -> None:
    """Ask each provider whether its services' host ports are free (or already ours)."""
    by_provider: dict[str, list[PlannedService]] = {}
    for svc in services:
        by_provider.setdefault(svc.provider, []).append(svc)
    problems: list[str] = []
    for name, svcs in by_provider.items():
        provider = await session.provider(name)
        try:
            problems.extend(await provider.check_ports(svcs))
        except OmnitronError:
            raise
        except Exception as exc:
            raise ProvisionError(f"{name} provider: cannot check host ports: {type(exc).__name__}: {exc}") from None
    if problems:
        fixes = [await run_by_other_providers(session, services), f"set portOffsets on stack {session.plan.stack!r} (e.g. portOffsets = 100) to move this stack's host ports, or free the port"]
        raise ProvisionError(f"host port collision: {'; '.join(problems)}. Fix: {'; or '.join(fix for fix in fixes if fix)}")


async def _provision_service(session: Session, svc: PlannedService, apps: list[str], result: UpResult, done: dict[str, Any], criticals: CriticalsDone | None) -> None:
    outcome = result.services[svc.name]
    progress = session.progress
    start = time.monotonic()
    try:
        for dep in svc.depends_on:
            if dep in done:
                progress(svc.name, "pending", f"waiting for {dep}")
                await done[dep].wait()
                if result.services[dep].status != "ready":
                    outcome.blocked_by = dep
                    raise _DependencyFailed(f"waits for {dep}, which is not ready")
        await _bring_up(session, svc, apps, outcome, criticals)
    except _NotWaitedFor as exc:  # best-effort, still starting: degraded, and not recorded as failed
        _fail(session, svc, outcome, str(exc), starting=True)
    except _DependencyFailed as exc:
        _fail(session, svc, outcome, f"service {svc.name} {exc}")
    except _NotHealthy as exc:
        _fail(session, svc, outcome, str(exc))
    except OmnitronError as exc:
        text = str(exc)
        _fail(session, svc, outcome, text if svc.name in text else f"service {svc.name}: {text}")
    except Exception as exc:  # report, do not crash the other services
        _fail(session, svc, outcome, f"service {svc.name}: {type(exc).__name__}: {exc}")
    finally:
        outcome.seconds = time.monotonic() - start
        done[svc.name].set()
        if criticals is not None:
            criticals.done(svc.name)


class _DependencyFailed(Exception):
    pass


class _NotHealthy(Exception):
    pass


class _NotWaitedFor(Exception):
    pass


def _fail(session: Session, svc: PlannedService, outcome: ServiceOutcome, message: str, *, starting: bool = False) -> None:
    """``svc`` failed (degraded when non-critical); recorded in the state store unless it is ``starting`` still."""
    outcome.error = message
    outcome.status = "failed" if svc.critical else "degraded"
    if session.manages(svc.provider) and outcome.blocked_by is None and not starting:
        session.state.mark_service(session.plan.stack, svc.name, "failed", svc.spec_hash, message[:500])
    session.progress(svc.name, outcome.status, outcome.probe or message)


async def _bring_up(session: Session, svc: PlannedService, apps: list[str], outcome: ServiceOutcome, criticals: CriticalsDone | None = None) -> None:
    from .addresses import adopt
    from .render import runtime_spec

    progress = session.progress
    provider = await session.provider(svc.provider)
    handle = session.handle(svc, provider)
    preset = session.plugins.presets.get(svc.preset) if svc.preset else None
    if preset is not None:
        await preset.materialise(handle)
    ahead = session.head_starts is not None and await session.head_starts.take(session, svc)
    progress(svc.name, "starting", f"{svc.provider}" + (", started ahead of planning from the last cold up's recipe" if ahead else ""))
    session.state.mark_service(session.plan.stack, svc.name, "starting", svc.spec_hash)
    spec = runtime_spec(session, svc)
    try:
        outcome.state = await provider.ensure(spec)
    except StartupTimeout as exc:  # the provider said why in its own words; what to do next is said here
        text = str(exc) if svc.name in str(exc) else f"service {svc.name}: {exc}"
        raise _NotHealthy(f"{text}. {slow_start_hint(svc, session.plan.stack)}") from None
    adopt(session.state, session.plan.stack, svc, outcome.state)
    if session.head_starts is not None:
        session.head_starts.offer(session, svc, provider, spec)
    handle = session.handle(svc, provider)
    handle.warn = outcome.warnings.append
    checks = checks_for(svc, session.plugins.probes)
    progress(svc.name, "waiting", ", ".join(c.name for c in checks) or "no health check")
    give_up = criticals.for_service(svc) if criticals is not None else None
    waited = await wait_healthy(handle, checks, HealthPolicy.of(svc), on_attempt=lambda r: progress(svc.name, "waiting", r.detail), liveness=_liveness(session, provider, svc), give_up=give_up)
    outcome.probe, outcome.note = waited.result.detail, waited.result.note
    if waited.gave_up:
        raise _NotWaitedFor(not_waited_for(svc))
    if not waited.result.ok:
        raise _NotHealthy(not_ready_message(svc, waited, session.plan.stack))
    requests = [a for app in apps if app in session.plan.apps for a in session.plan.apps[app].allocations if a.service == svc.name]
    requests += [a for other in session.plan.services for a in other.allocations if a.service == svc.name]
    if preset is not None:
        progress(svc.name, "preparing", "")
        facts = await preset.prepare(handle)
        if facts is not None:
            session.state.put_facts(session.plan.stack, svc.name, {str(k): str(v) for k, v in facts.items()})
        await allocate_all(session, svc, preset, handle, requests, outcome)
        await maintain_one(session, svc, preset, handle)
    else:
        for request in requests:
            record_allocation(session, svc, request, dict(request.values))
            outcome.allocations[request.app] = dict(request.values)
    outcome.status = "ready"
    session.state.mark_service(session.plan.stack, svc.name, "ready", svc.spec_hash)  # only now: healthy, prepared, allocated
    progress(svc.name, "ready", waited.result.detail)


def _liveness(session: Session, provider: Provider, svc: PlannedService) -> Any:
    """Why ``svc`` is dead according to its provider, or ``None`` (see :func:`~.gate.wait_healthy`)."""
    if not session.manages(svc.provider):
        return None

    async def dead() -> str | None:
        try:
            state = (await provider.list_managed()).get(svc.name)
        except Exception:
            return None  # cannot tell: keep waiting on the probes
        if state is not None and state.status in ("exited", "dead"):
            return f"the {svc.provider} provider reports it {state.status}" + (f": {state.error}" if state.error else "")
        return None

    return dead
