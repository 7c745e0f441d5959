"""A service's health check as Swarm's own (the task's container health check), so unhealthy tasks are replaced. Pure.

A ``docker.healthCheck`` the service declares is used as it is
(:meth:`~omnitron.api.ContainerHealthCheck.engine_api`). Otherwise its
omnitron probes are translated as they run inside the container
(:class:`~omnitron.api.ContainerProbe`): a command as it is, a TCP probe
through the shell's ``/dev/tcp`` (bash) or ``nc``, an HTTP probe with
``wget`` or ``curl``. Every translated probe must pass.
"""

from __future__ import annotations

from typing import Any

from omnitron.api import ContainerProbe

NS_PER_MS = 1_000_000
START_PERIOD_MS = 60_000
"""Failures in the first minute of a task do not count (a database initialising its data directory)."""


def translated(probes: list[ContainerProbe], *, interval_ms: int, timeout_ms: int, retries: int) -> dict[str, Any] | None:
    """The probes as one health check (``None`` when there are none)."""
    if not probes:
        return None
    if len(probes) == 1 and probes[0].kind == "exec":
        test = ["CMD", *probes[0].command]
    else:
        test = ["CMD-SHELL", " && ".join(f"( {p.shell()} )" for p in probes)]
    return {
        "Test": test,
        "Interval": max(interval_ms, 1000) * NS_PER_MS,
        "Timeout": max(timeout_ms, 1000) * NS_PER_MS,
        "Retries": max(retries, 1),
        "StartPeriod": START_PERIOD_MS * NS_PER_MS,
    }
