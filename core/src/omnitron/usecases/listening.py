"""Where an app started by ``omnitron run`` listens: expected when it starts, then as observed.

``run`` records the app's expected addresses (its declared or allocated
ports, on 127.0.0.1) before it provisions, so a gateway's map points there
from the start. Once the command runs (``run`` has become it), a watcher
reads from ``/proc`` which TCP ports that process and its children listen on
and records those instead (:func:`watch_listening`): an app that listens
elsewhere than it was told is still reached. Whenever a recorded address
changes, every running service's preset chore runs
(:func:`~omnitron.engine.maintenance.maintain_running`), so a gateway reloads
its upstream map.

Observed ports are matched to the app's port names: a name whose expected
port is observed keeps it; the other names take the other observed ports in
ascending order; a name with nothing observed keeps its expected address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..listening_watcher import WATCH_FOR, wait_listening

if TYPE_CHECKING:
    from .loading import Stack

_LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "127.0.0.1", "::1": "127.0.0.1"}


def match_ports(expected: dict[str, tuple[str, int]], observed: set[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """Port name -> address, from what the app was expected to listen on and what it listens on (see the module docstring)."""
    by_port = {port: _LOOPBACK_FOR.get(host, host) for host, port in sorted(observed)}
    out: dict[str, tuple[str, int]] = {}
    rest = sorted(by_port)
    for name, (host, port) in sorted(expected.items()):
        if port in by_port:
            out[name] = (by_port[port], port)
            rest.remove(port)
    for name in sorted(n for n in expected if n not in out):
        if rest:
            port = rest.pop(0)
            out[name] = (by_port[port], port)
        else:
            out[name] = expected[name]
    return out


def watch_listening(stack: Stack, app: str, pid: int, *, timeout: float = WATCH_FOR) -> dict[str, tuple[str, int]] | None:
    """Wait until process ``pid`` (or a child) listens, record where, and apply a change; ``None`` if it never listened.

    Blocking: it runs in the watcher ``run`` forks before it becomes the app's
    command (:mod:`omnitron.listening_watcher`).
    """
    seen = wait_listening(pid, timeout=timeout)
    return None if seen is None else record_observed(stack, app, pid, seen)


def record_observed(stack: Stack, app: str, pid: int, observed: set[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """Record where ``app`` listens (``observed`` addresses of process ``pid``); on a change, run the services' chores."""
    import anyio

    from ..engine.appports import expected_endpoints
    from ..engine.maintenance import maintain_running
    from ..engine.session import Session

    async def main() -> dict[str, tuple[str, int]]:
        async with Session(stack.project, stack.plan) as session:
            allocated = session.state.app_ports(stack.plan.stack).get(app, {})
            addresses = match_ports(expected_endpoints(stack.plan, app, allocated), observed)
            if session.state.record_app_endpoints(stack.plan.stack, app, addresses, source="observed", pid=pid):
                for problem in await maintain_running(session):
                    session.state.log_event(stack.plan.stack, "maintain-failed", f"after app {app} moved: {problem}")
            return addresses

    return anyio.run(main)
