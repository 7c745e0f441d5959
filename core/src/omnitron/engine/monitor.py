"""Watching a service that was healthy: what the daemon's reconcile loop restarts on.

:class:`HealthMonitor` probes a service every ``interval`` with the same
checks as the gate and reports it unhealthy only after ``retries``
consecutive failures (``retries=1``: unhealthy on the second failed tick in a
row), so one slow answer never restarts anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .gate import Check, HealthPolicy, check_once

if TYPE_CHECKING:
    from ..health import ProbeResult
    from ..runtime import ServiceHandle


class HealthMonitor:
    """Watches a service that was healthy: probes every ``interval``, unhealthy after ``retries`` failures in a row."""

    def __init__(self, handle: ServiceHandle, checks: list[Check], policy: HealthPolicy) -> None:
        self.handle = handle
        self.checks = checks
        self.policy = policy
        self.failures = 0
        self.last: ProbeResult | None = None

    @property
    def healthy(self) -> bool:
        return self.failures <= self.policy.retries

    async def observe(self) -> bool:
        """Probe once and update the count of consecutive failures; returns :attr:`healthy`."""
        self.last = await check_once(self.handle, self.checks, self.policy.attempt_timeout)
        self.failures = 0 if self.last.ok else self.failures + 1
        return self.healthy

    async def watch(self, on_change: Callable[[bool, ProbeResult | None], None]) -> None:
        """Probe forever at ``interval``; ``on_change(healthy, result)`` when health flips."""
        import anyio

        was = True
        while True:
            now = await self.observe()
            if now != was:
                on_change(now, self.last)
                was = now
            await anyio.sleep(self.policy.interval)
