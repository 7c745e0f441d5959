"""One reconcile pass over a stack: observe what runs, compare it with the plan, repair what drifted.

Level-triggered and idempotent: each pass looks at the whole stack as it is
now, whatever happened before. For each planned service its provider manages:

- missing -> ``create``; stopped, exited or paused -> ``start``;
- spec hash changed -> ``recreate`` (volumes kept);
- running, but the last ``up`` left it unprepared (its readiness is not ``ready``) -> ``finish``;
- running but unhealthy on 2 consecutive passes -> ``restart``;
- labelled ours but not in the plan (an orphan) -> ``remove-orphan`` (data kept).

Repairs go through the same use case as ``infra up``
(:func:`~omnitron.usecases.bring_up`): the provider ensures the service, the
gate waits for its health, its preset prepares it and allocations are made.
A failed repair backs off per service (30 s doubling to 15 min by default);
one that stays healthy for a whole backoff window is forgiven. When a service
is repaired, the services that depend on it are re-gated: recorded as waiting
(``infra status`` shows it), brought through the gate again once it is
healthy, then released. A provider that cannot answer (the engine went away)
is reported and its services are left alone until it answers again. Every
action is an event with its reason (:mod:`omnitron.state.events`).

The caller holds the daemon's work lock and the project lock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..tasks import task_group
from .observation import Observation, Repair

if TYPE_CHECKING:
    from ..engine.provision import UpResult
    from ..engine.session import Session
    from ..plan import PlannedService
    from ..usecases import Stack
    from ..providers import ContainerState
    from .keeper import StackKeeper

__all__ = ["Observation", "PassResult", "Repair", "observe", "run_pass"]

log = logging.getLogger("omnitron.daemon")


@dataclass
class PassResult:
    stack: str
    seconds: float = 0.0
    actions: list[dict[str, str]] = field(default_factory=list)
    observation: Observation | None = None
    skipped: str | None = None

    def as_json(self) -> dict[str, object]:
        obs = self.observation
        return {
            "stack": self.stack, "seconds": round(self.seconds, 4), "actions": self.actions, "skipped": self.skipped,
            "noop": bool(obs is not None and obs.noop and not self.actions),
        }


async def observe(session: Session, keeper: StackKeeper, *, probe: bool = True) -> Observation:
    """The stack as it is now, and the repairs it needs (nothing is changed)."""
    from ..engine.teardown import managed_providers

    obs = Observation()
    plan = session.plan
    for pname, provider in (await managed_providers(session)).items():
        try:
            for name, st in (await provider.list_managed()).items():
                if any(s.name == name for s in plan.services):
                    obs.states[name] = st
                else:
                    obs.orphans[name] = pname
        except Exception as exc:
            obs.provider_errors[pname] = f"{type(exc).__name__}: {exc}" if not str(exc).startswith(pname) else str(exc)
    running: list[PlannedService] = []
    readiness = session.state.readiness(plan.stack)
    for svc in plan.services:
        if not session.manages(svc.provider) or svc.provider in obs.provider_errors:
            continue
        repair = _needs(svc, obs.states.get(svc.name)) or _unfinished(svc, readiness.get(svc.name))
        if repair is not None:
            obs.repairs.append(repair)
        else:
            running.append(svc)
    if probe and running:
        await _probe(session, keeper, running, obs)
    return obs


def _needs(svc: PlannedService, st: ContainerState | None) -> Repair | None:
    if st is None or st.status == "not_found":
        return Repair(svc.name, "create", "missing: no container or process of it runs")
    if st.status in ("exited", "dead", "created", "paused"):
        detail = f" ({st.error})" if st.error else ""
        return Repair(svc.name, "start", f"{st.status}{detail}")
    if st.spec_hash and svc.spec_hash and st.spec_hash != svc.spec_hash:
        return Repair(svc.name, "recreate", f"spec hash changed ({st.spec_hash[:8]} -> {svc.spec_hash[:8]}); volumes are kept")
    return None


def _unfinished(svc: PlannedService, ready: dict[str, object] | None) -> Repair | None:
    """A running service the last ``up`` did not finish preparing (killed on the way, or its preset failed): ``finish``."""
    if ready is None or (ready["phase"] == "ready" and ready["specHash"] == svc.spec_hash):
        return None
    if ready["specHash"] != svc.spec_hash:
        return None  # recorded for another spec: a changed spec is seen by its hash
    detail = f": {ready['detail']}" if ready.get("detail") else ""
    return Repair(svc.name, "finish", f"the last up left it {ready['phase']}{detail}; preparing it again")


async def _probe(session: Session, keeper: StackKeeper, services: list[PlannedService], obs: Observation) -> None:
    """Probe every running service once, concurrently; two failed passes in a row make a ``restart``."""
    from ..engine.gate import HealthPolicy, checks_for
    from ..engine.monitor import HealthMonitor

    async def one(svc: PlannedService) -> None:
        if obs.states[svc.name].status == "restarting":
            return
        provider = await session.provider(svc.provider)
        policy = replace(HealthPolicy.of(svc), retries=1)
        monitor = HealthMonitor(session.handle(svc, provider), checks_for(svc, session.plugins.probes), policy)
        watch = keeper.watch(svc.name)
        monitor.failures = watch.unhealthy
        healthy = await monitor.observe()
        watch.unhealthy = monitor.failures
        if monitor.failures:
            obs.unhealthy[svc.name] = monitor.last.detail if monitor.last else "probe failed"
        if not healthy:
            obs.repairs.append(Repair(svc.name, "restart", f"unhealthy on {monitor.failures} consecutive checks: {obs.unhealthy[svc.name]}"))

    async with task_group() as tg:
        for svc in services:
            tg.start_soon(one, svc)


async def run_pass(keeper: StackKeeper, *, source: str = "tick") -> PassResult:
    """Observe the stack and repair it; returns what was done."""
    from ..engine.session import Session

    assert keeper.stack is not None
    stack = keeper.stack
    started = time.monotonic()
    result = PassResult(stack.name)
    async with Session(stack.project, stack.plan) as session:
        obs = await observe(session, keeper)
        result.observation = obs
        _report_providers(session, keeper, obs)
        await _remove_orphans(session, obs, result)
        if keeper.reloaded:
            keeper.reloaded = False
            await _full_up(session, keeper, obs, result)
        else:
            await _repair(session, keeper, obs, result)
        await _release_waiting(session, keeper, obs, result)
        now = time.time()
        for svc in stack.plan.services:
            watch = keeper.watches.get(svc.name)
            if watch is not None and svc.name in obs.states and not any(r.service == svc.name for r in obs.repairs) and svc.name not in obs.unhealthy:
                if watch.seen_healthy(now, keeper.backoff):
                    _event(session, result, svc.name, "backoff-reset", "healthy for a whole backoff window: failures forgotten")
        from .chores import maintain_all
        from .janitor import sweep

        await maintain_all(session, keeper, obs)
        sweep(session, keeper)
        session.state.mark_reconciled(stack.name)
    result.seconds = time.monotonic() - started
    return result


def _event(session: Session, result: PassResult, service: str, action: str, reason: str, data: dict[str, object] | None = None) -> None:
    session.state.record_event(session.plan.stack, service, action, reason, data)
    result.actions.append({"service": service, "action": action, "reason": reason})
    log.info("stack %s: %s %s: %s", session.plan.stack, action, service or "-", reason)


def _report_providers(session: Session, keeper: StackKeeper, obs: Observation) -> None:
    for pname, error in obs.provider_errors.items():
        if keeper.provider_errors.get(pname) != error:
            session.state.record_event(session.plan.stack, "", "provider-error", f"the {pname} provider does not answer: {error}; its services are left alone", {"provider": pname})
            log.warning("stack %s: provider %s: %s", session.plan.stack, pname, error)
    for pname in list(keeper.provider_errors):
        if pname not in obs.provider_errors:
            session.state.record_event(session.plan.stack, "", "provider-back", f"the {pname} provider answers again", {"provider": pname})
    keeper.provider_errors = dict(obs.provider_errors)


async def _remove_orphans(session: Session, obs: Observation, result: PassResult) -> None:
    for name, pname in sorted(obs.orphans.items()):
        provider = await session.provider(pname)
        _event(session, result, name, "remove-orphan", "not in the plan (an orphan); its data is kept", {"provider": pname})
        try:
            await provider.stop(name)
            await provider.remove(name, volumes=False)
        except Exception as exc:
            _event(session, result, name, "failed", f"removing the orphan: {type(exc).__name__}: {exc}", {"provider": pname})


def dependents_of(session: Session, name: str) -> list[str]:
    """Every planned service that depends on ``name``, directly or not, in plan order."""
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {s.name for s in session.plan.services if set(s.depends_on) & frontier and s.name not in found}
        found |= frontier
    return [s.name for s in session.plan.services if s.name in found]


async def _repair(session: Session, keeper: StackKeeper, obs: Observation, result: PassResult) -> None:
    """Make each needed repair, one service at a time, in dependency order (a service backing off is skipped)."""
    now = time.time()
    for repair in obs.repairs:
        watch = keeper.watch(repair.service)
        if watch.waiting(now):
            continue
        fresh = await _recheck(session, repair)
        if fresh is not None:
            await _repair_one(session, keeper, fresh, result)


async def _recheck(session: Session, repair: Repair) -> Repair | None:
    """The repair ``repair.service`` needs now (it was observed a moment ago: ``docker rm -f`` may have gone on since, a restart policy may have started it)."""
    if repair.action not in ("create", "start", "recreate"):
        return repair
    svc = session.plan.service(repair.service)
    try:
        now = (await (await session.provider(svc.provider)).list_managed()).get(svc.name)
    except Exception:
        return repair
    return _needs(svc, now)


async def _repair_one(session: Session, keeper: StackKeeper, repair: Repair, result: PassResult) -> None:
    stack = keeper.stack
    assert stack is not None
    name = repair.service
    waiting = dependents_of(session, name)
    _event(session, result, name, repair.action, repair.reason, {"dependents": waiting} if waiting else None)
    for dependent in waiting:
        session.state.set_waiting(stack.name, dependent, name)
    if waiting:
        _event(session, result, name, "regate", f"{', '.join(waiting)} wait{'s' if len(waiting) == 1 else ''} until {name} is healthy again", {"dependents": waiting})
    if repair.action == "restart":
        provider = await session.provider(stack.plan.service(name).provider)
        await provider.stop(name)
    _after_up(session, keeper, result, await _bring_up(stack, [name]), [name])


async def _bring_up(stack: Stack, names: list[str] | None) -> UpResult:
    """``bring_up`` of ``names`` (all when ``None``); an error before any service started (a port taken) fails each of them."""
    from ..engine.provision import ServiceOutcome, UpResult
    from ..errors import OmnitronError
    from ..usecases import bring_up

    try:
        return await bring_up(stack, services=names, remember=False)
    except OmnitronError as exc:
        failed = UpResult(stack.plan.project, stack.name)
        for svc in stack.plan.services:
            if names is None or svc.name in names:
                failed.services[svc.name] = ServiceOutcome(svc.name, svc.provider, svc.critical, status="failed", error=str(exc))
        return failed


def _after_up(session: Session, keeper: StackKeeper, result: PassResult, up: UpResult, names: list[str]) -> None:
    """Record how the repairs of ``names`` ended: ``ready``, or ``failed`` and a ``backoff``."""
    now = time.time()
    outcomes = up.services
    for name in names:
        outcome = outcomes.get(name)
        watch = keeper.watch(name)
        if outcome is not None and outcome.status in ("ready", "degraded"):
            watch.repaired(now)
            _event(session, result, name, "ready", f"healthy again after {outcome.seconds:.2f}s", {"seconds": round(outcome.seconds, 3)})
            continue
        error = (outcome.error if outcome is not None else None) or "the repair did not complete"
        delay = watch.failed(now, keeper.backoff)
        _event(session, result, name, "failed", error)
        _event(session, result, name, "backoff", f"failure {watch.failures} in a row: next repair in {delay:g}s", {"failures": watch.failures, "delay": delay})


async def _full_up(session: Session, keeper: StackKeeper, obs: Observation, result: PassResult) -> None:
    """After the config changed: the whole stack through ``bring_up`` (allocations for new apps, changed services recreated)."""
    stack = keeper.stack
    assert stack is not None
    now = time.time()
    todo = [r for r in obs.repairs if not keeper.watch(r.service).waiting(now)]
    for repair in todo:
        _event(session, result, repair.service, repair.action, repair.reason)
    up = await _bring_up(stack, None)
    failed = [n for n, o in up.services.items() if o.status not in ("ready", "degraded")]
    _after_up(session, keeper, result, up, list(dict.fromkeys([r.service for r in todo] + failed)))


async def _release_waiting(session: Session, keeper: StackKeeper, obs: Observation, result: PassResult) -> None:
    """Services re-gated by a repair: through the gate again once what they wait for is healthy, then released."""
    stack = keeper.stack
    assert stack is not None
    waiting = session.state.waiting(stack.name)
    planned = {s.name for s in stack.plan.services}
    for name, dependency in sorted(waiting.items()):
        if name not in planned:
            session.state.set_waiting(stack.name, name, None)
            continue
        if keeper.watch(dependency).failures and keeper.watch(dependency).waiting(time.time()):
            continue
        up = await _bring_up(stack, [name])
        outcome = up.services.get(name)
        if outcome is not None and outcome.status in ("ready", "degraded") and up.services.get(dependency) is not None and up.services[dependency].status == "ready":
            session.state.set_waiting(stack.name, name, None)
            _event(session, result, name, "released", f"{dependency} is healthy again: {name} passed the gate")
