"""Health and the infrastructure gate.

omnitron runs the probes itself: every probe declared under ``healthCheck``
(``tcp``, ``http``, ``command`` and plugin probes such as ``postgres``) must
pass. A service without a health check is probed with TCP on each of its
ports. A container's own health check (``docker.healthCheck``) must pass too:
its provider's report of it is one more check.

Startup (:func:`wait_healthy`) polls fast at first, 10 ms doubling up to
50 ms (250 ms when a ``command`` probe has to exec into the service, or the
provider is asked for a container's own health; never slower than the
declared ``interval``), so a service is seen ready within about 50 ms of
becoming ready (a probe is a connection: a few hundred microseconds of CPU
each); it gives up after the service's
``startupTimeout``. Each attempt is bounded by ``timeout``.
Once a service has been healthy, :class:`~.monitor.HealthMonitor` watches it.

:func:`wait_ready` is the gate: it waits for every service an app uses.
Critical services block; non-critical ones are best effort with a warning.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ProvisionError
from ..health import ProbeResult
from ..tasks import task_group

if TYPE_CHECKING:
    from ..health import HealthProbe
    from ..plan import Plan, PlannedService
    from ..project import Project
    from ..providers import ProgressFn
    from ..runtime import ServiceHandle
    from .session import Session

FIRST_DELAY = 0.010
MAX_DELAY = 0.025
"""Slowest startup polling of a connection probe: a refused or rejected connection costs well under a millisecond."""
MAX_DELAY_EXEC = 0.250
"""Slowest startup polling when a probe execs a command (costlier than a connection)."""
GRACE = 0.5
"""Seconds a probe may overrun its timeout before it is abandoned."""


@dataclass(frozen=True)
class Check:
    """One declared probe of a service: the probe kind and its validated spec."""

    name: str
    probe: HealthProbe
    spec: Any


@dataclass(frozen=True)
class HealthPolicy:
    """Timing of a service's health checks, in seconds."""

    startup_timeout: float
    attempt_timeout: float
    interval: float
    retries: int

    @classmethod
    def of(cls, svc: PlannedService) -> "HealthPolicy":
        hc = svc.health_check
        return cls(
            startup_timeout=svc.startup_timeout_ms / 1000,
            attempt_timeout=(hc.timeout if hc else 10_000) / 1000,
            interval=(hc.interval if hc else 5_000) / 1000,
            retries=hc.retries if hc else 10,
        )


def checks_for(svc: PlannedService, probes: dict[str, HealthProbe]) -> list[Check]:
    """The probes to run for ``svc``: those declared, else TCP on each port; and, when its docker run part
    declares a health check of its own (``docker.healthCheck``), the provider's report of that check."""
    from ..health import OwnHealthCheckProbe, declared_probes

    checks = [Check(name, probe, spec) for name, probe, spec in declared_probes(svc, probes)]
    if svc.docker is not None and svc.docker.health_check is not None:
        checks.append(Check(OwnHealthCheckProbe.name, OwnHealthCheckProbe(), None))
    return checks


async def _run_check(check: Check, handle: ServiceHandle, timeout: float) -> ProbeResult:
    import anyio

    start = time.perf_counter()
    result: ProbeResult | None = None
    try:
        with anyio.move_on_after(timeout + GRACE):
            result = await check.probe.check(check.spec, handle, timeout)
    except Exception as exc:  # a probe must not break the gate; its error is the detail
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ProbeResult(False, f"{check.name}: {msg}", (time.perf_counter() - start) * 1000)
    if result is None:
        return ProbeResult(False, f"{check.name}: no answer within {timeout:g}s", (time.perf_counter() - start) * 1000)
    return result


async def check_once(handle: ServiceHandle, checks: list[Check], timeout: float) -> ProbeResult:
    """Run every check once, concurrently; healthy when all pass."""
    if not checks:
        return ProbeResult(True, "no health check declared")
    if len(checks) == 1:
        return await _run_check(checks[0], handle, timeout)

    results: list[ProbeResult] = [ProbeResult(False, "not run")] * len(checks)

    async def one(i: int) -> None:
        results[i] = await _run_check(checks[i], handle, timeout)

    async with task_group() as tg:
        for i in range(len(checks)):
            tg.start_soon(one, i)
    failed = [r for r in results if not r.ok]
    shown = failed or results
    notes = "; ".join(r.note for r in results if r.note) or None
    return ProbeResult(not failed, "; ".join(r.detail for r in shown), max(r.elapsed_ms for r in results), note=notes)


LIVENESS_EVERY = 1.0
"""Seconds between asking the provider whether a service still runs while waiting for it."""


@dataclass
class WaitResult:
    """Outcome of waiting for one service."""

    result: ProbeResult
    attempts: int
    waited: float
    """Seconds spent waiting."""
    stopped: str | None = None
    """Why waiting ended early: the provider reported the service dead (twice in a row)."""
    gave_up: bool = False
    """Waiting ended early because ``give_up`` said so (a non-critical service the app does not wait for)."""


async def wait_healthy(
    handle: ServiceHandle,
    checks: list[Check],
    policy: HealthPolicy,
    *,
    on_attempt: Callable[[ProbeResult], None] | None = None,
    liveness: Callable[[], Awaitable[str | None]] | None = None,
    give_up: Callable[[], bool] | None = None,
) -> WaitResult:
    """Probe until every check passes or ``policy.startup_timeout`` has passed.

    :param on_attempt: called with each failed :class:`ProbeResult` (progress detail).
    :param liveness: returns why the service is dead (exited), or ``None``; asked
        about once a second, and waiting stops when it answers twice in a row, so
        a crashed service fails at once instead of at the end of its timeout.
    :param give_up: asked after each failed probe (never before the first): ``True`` ends the wait
        (:attr:`WaitResult.gave_up`).
    """
    from ..poll import attempts

    slowest = MAX_DELAY_EXEC if any(c.name in ("command", "container") for c in checks) else MAX_DELAY
    next_liveness = time.monotonic() + LIVENESS_EVERY
    dead_seen: str | None = None
    result = ProbeResult(False, "not probed")
    async for attempt in attempts(policy.startup_timeout, first=FIRST_DELAY, cap=min(slowest, policy.interval)):
        remaining = attempt.remaining
        result = await check_once(handle, checks, max(0.05, min(policy.attempt_timeout, remaining)) if remaining > 0 else min(policy.attempt_timeout, 1.0))
        if result.ok:
            return WaitResult(result, attempt.number, attempt.elapsed)
        if on_attempt is not None:
            on_attempt(result)
        if give_up is not None and give_up():
            return WaitResult(result, attempt.number, attempt.elapsed, gave_up=True)
        if liveness is not None and time.monotonic() >= next_liveness:
            next_liveness = time.monotonic() + LIVENESS_EVERY
            reason = await liveness()
            if reason is not None and dead_seen is not None:
                return WaitResult(result, attempt.number, attempt.elapsed, stopped=reason)
            dead_seen = reason
    return WaitResult(result, attempt.number, attempt.elapsed)


def not_ready_message(svc: PlannedService, waited: WaitResult, stack: str | None = None) -> str:
    """A failure that names the service, its last probe result and the next step."""
    logs = f"omnitron infra logs {svc.name}" + (f" --stack {stack}" if stack else "")
    if waited.stopped is not None:
        return (
            f"service {svc.name} stopped while waiting to become healthy ({waited.stopped}); "
            f"last probe: {waited.result.detail}. Next: `{logs}`"
        )
    return (
        f"service {svc.name} did not become healthy within its startupTimeout of {svc.startup_timeout_ms / 1000:g}s "
        f"({waited.attempts} probes); last probe: {waited.result.detail}. {slow_start_hint(svc, stack)}"
    )


def slow_start_hint(svc: PlannedService, stack: str | None = None) -> str:
    """The next step after a service ran out of its ``startupTimeout``: look at it, or give it longer."""
    where = f" --stack {stack}" if stack else ""
    return (
        f"Next: `omnitron infra status{where}`, `omnitron infra logs {svc.name}{where}`, "
        f"or raise startupTimeout (now {svc.startup_timeout_ms / 1000:g}s) of service {svc.name} if it is just slow"
    )


@dataclass
class GateResult:
    """What the gate saw: per service, its last probe, and warnings for non-critical failures."""

    services: dict[str, WaitResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


async def wait_ready(project: Project, plan: Plan, app: str, *, progress: ProgressFn | None = None, session: Session | None = None) -> GateResult:
    """The gate: wait until every critical service ``app`` uses is healthy.

    Does not provision anything (``infra up`` and ``omnitron run`` do). Raises
    :class:`~omnitron.errors.ProvisionError` naming each critical service that
    did not become healthy in time; non-critical ones become warnings.
    """
    if app not in plan.apps:
        from ..errors import ConfigError

        raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
    if session is None:
        from .session import Session

        async with Session(project, plan, progress=progress) as own:
            return await wait_ready(project, plan, app, progress=progress, session=own)
    return await wait_services(session, plan.services_for(app))


class CriticalsDone:
    """For an app's gate: true once every critical service of ``services`` is done waiting (ready or not).

    Passed as ``give_up`` to :func:`wait_healthy` for the non-critical ones, which are best-effort: the app
    waits for them no longer than for its critical services (each still gets its first probe).
    """

    def __init__(self, services: list[PlannedService]) -> None:
        self.left = {svc.name for svc in services if svc.critical}

    def done(self, name: str) -> None:
        self.left.discard(name)

    def __call__(self) -> bool:
        return not self.left

    def for_service(self, svc: PlannedService) -> Callable[[], bool] | None:
        return None if svc.critical else self


def not_waited_for(svc: PlannedService) -> str:
    """The warning for a non-critical service the app starts without."""
    return f"service {svc.name} is not healthy yet: the app does not wait for it (it goes on starting)"


async def wait_services(session: Session, services: list[PlannedService]) -> GateResult:
    """Wait for ``services`` concurrently (see :func:`wait_ready`); non-critical ones no longer than the critical ones."""
    gate = GateResult()
    failures: list[str] = []
    criticals = CriticalsDone(services)

    async def one(svc: PlannedService) -> None:
        provider = await session.provider(svc.provider)
        handle = session.handle(svc, provider)
        session.progress(svc.name, "waiting", "")
        try:
            waited = await wait_healthy(handle, checks_for(svc, session.plugins.probes), HealthPolicy.of(svc), on_attempt=lambda r: session.progress(svc.name, "waiting", r.detail), give_up=criticals.for_service(svc))
        finally:
            criticals.done(svc.name)
        gate.services[svc.name] = waited
        if waited.result.ok:
            session.progress(svc.name, "ready", waited.result.detail)
            return
        if waited.gave_up:
            session.progress(svc.name, "degraded", waited.result.detail)
            gate.warnings.append(f"{not_waited_for(svc)} (non-critical: continuing without it)")
            return
        message = not_ready_message(svc, waited, session.plan.stack)
        if svc.critical:
            session.progress(svc.name, "failed", waited.result.detail)
            failures.append(message)
        else:
            session.progress(svc.name, "degraded", waited.result.detail)
            gate.warnings.append(f"{message} (non-critical: continuing without it)")

    async with task_group() as tg:
        for svc in services:
            tg.start_soon(one, svc)
    if failures:
        raise ProvisionError(" | ".join(failures))
    return gate
