"""Waiting until services are healthy without provisioning anything (``infra wait``), like ``tilt wait`` or Aspire's ``WaitFor``.

Someone else brings the services up (``infra up`` in another terminal, the
daemon, CI's previous step); this only probes, for at most ``timeout`` seconds
in all, and reports each service's last probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..tasks import task_group
from .loading import Stack

if TYPE_CHECKING:
    from ..plan import PlannedService
    from ..providers import ProgressFn


@dataclass
class Waited:
    """One service: whether it became healthy, its last probe, how long it took."""

    healthy: bool
    probe: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "probe": self.probe, "seconds": round(self.seconds, 3)}


@dataclass
class WaitOutcome:
    services: dict[str, Waited] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(w.healthy for w in self.services.values())

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ok, "services": {name: w.as_dict() for name, w in self.services.items()}}


def services_to_wait_for(stack: Stack, names: list[str] | None) -> list[PlannedService]:
    """The named services (all of the stack's when none is named); an unknown name is a config error listing them."""
    from ..errors import ConfigError

    plan = stack.plan
    if not names:
        return list(plan.services)
    known = {s.name for s in plan.services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"no service named {unknown[0]!r} in stack {plan.stack}; services: {', '.join(sorted(known)) or '(none)'}")
    return [s for s in plan.services if s.name in names]


async def wait_for(stack: Stack, names: list[str] | None = None, *, timeout: float = 60.0, progress: ProgressFn | None = None) -> WaitOutcome:
    """Probe the services (all when ``names`` is empty) until each is healthy or ``timeout`` seconds have passed.

    Never raises for an unhealthy service: the outcome says which one failed and its last probe.
    """
    from ..engine.gate import HealthPolicy, checks_for, wait_healthy
    from ..engine.session import Session

    targets = services_to_wait_for(stack, names)
    outcome = WaitOutcome()
    started = time.monotonic()
    async with Session(stack.project, stack.plan, progress=progress) as session:

        async def one(svc: PlannedService) -> None:
            try:
                provider = await session.provider(svc.provider)
                policy = replace(HealthPolicy.of(svc), startup_timeout=max(0.0, timeout - (time.monotonic() - started)))
                on_attempt = (lambda r: session.progress(svc.name, "waiting", r.detail))
                waited = await wait_healthy(session.handle(svc, provider), checks_for(svc, session.plugins.probes), policy, on_attempt=on_attempt)
                outcome.services[svc.name] = Waited(waited.result.ok, waited.result.detail, time.monotonic() - started)
            except Exception as exc:  # a provider that cannot be reached is a failed wait, said in one line
                outcome.services[svc.name] = Waited(False, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
            session.progress(svc.name, "ready" if outcome.services[svc.name].healthy else "failed", outcome.services[svc.name].probe)

        async with task_group() as tg:
            for svc in targets:
                tg.start_soon(one, svc)
    outcome.services = {s.name: outcome.services[s.name] for s in targets}
    return outcome
