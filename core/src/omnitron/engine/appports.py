"""Ports for apps that declare none, and where ``omnitron run`` expects an app to listen.

An app without ``ports`` gets one (named ``http``), allocated once per stack
and app like a Redis DB index and recorded in the state store
(:mod:`omnitron.state.app_endpoints`), then injected as ``PORT``. Candidates
start at a point derived from the project, stack and app (so two projects
rarely try the same port first) and run through :data:`APP_PORT_RANGE`,
below the kernel's ephemeral range; a candidate is skipped when the plan
uses it as a host port, another app declares it or has it allocated, or
something listens on it now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import Plan
    from .session import Session

APP_PORT_RANGE = (10000, 20000)
"""Ports ``[low, high)`` allocated to apps that declare none."""
APP_HOST = "127.0.0.1"


def candidates(project: str, stack: str, app: str, name: str) -> Iterator[int]:
    """Every port of :data:`APP_PORT_RANGE` once, from a start derived from the names."""
    low, high = APP_PORT_RANGE
    span = high - low
    start = int(hashlib.sha256(f"{project}/{stack}/{app}/{name}".encode()).hexdigest()[:8], 16) % span
    for i in range(span):
        yield low + (start + i) % span


def planned_ports(plan: Plan) -> set[int]:
    """Ports the plan already uses on this host: services' host ports and apps' declared ports."""
    used = {port for svc in plan.services for port in svc.ports.values()}
    used.update(port for app in plan.apps.values() for port in app.ports.values())
    return used


def ensure_app_ports(session: Session, apps: list[str]) -> dict[str, dict[str, int]]:
    """Allocate (once) the port of every app in ``apps`` that declares none; app -> port name -> port for all of them."""
    from ..hostports import is_listening

    plan = session.plan
    recorded = session.state.app_ports(plan.stack)
    avoid = planned_ports(plan)
    for app in apps:
        name = plan.apps[app].allocated_port if app in plan.apps else None
        if name is None or name in recorded.get(app, {}):
            continue
        port = session.state.allocate_app_port(
            plan.stack, app, name, candidates=candidates(plan.project, plan.stack, app, name), avoid=avoid,
            is_free=lambda p: not is_listening(p, APP_HOST),
        )
        recorded.setdefault(app, {})[name] = port
        session.progress(app, "preparing", f"port {port} allocated for {app} (PORT)")
    return recorded


def expected_endpoints(plan: Plan, app: str, allocated: dict[str, int]) -> dict[str, tuple[str, int]]:
    """Port name -> address ``app`` is expected to listen on: its declared ports and the one allocated for it."""
    ports = plan.apps[app].listen_ports(allocated)
    return {name: (APP_HOST, int(port)) for name, port in ports.items() if isinstance(port, int)}


def app_addresses(plan: Plan, allocated: Mapping[str, Mapping[str, int]], recorded: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, tuple[str, int]]]:
    """App -> port name -> ``(host, port)`` where it listens (pure).

    What ``omnitron run`` recorded (``recorded``: the state store's
    :meth:`~omnitron.state.StateStore.app_endpoints`) wins over the app's
    declared ports and the one allocated for it (``allocated``:
    :meth:`~omnitron.state.StateStore.app_ports`); a port not known yet (an
    allocation not made) is left out, and so are recorded names the app no
    longer has.
    """
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for name, app in sorted(plan.apps.items()):
        addresses = expected_endpoints(plan, name, dict(allocated.get(name, {})))
        for port_name, endpoint in recorded.get(name, {}).items():
            if port_name in app.listen_ports(allocated.get(name)):
                addresses[port_name] = (endpoint.host, int(endpoint.port))
        out[name] = dict(sorted(addresses.items()))
    return out
