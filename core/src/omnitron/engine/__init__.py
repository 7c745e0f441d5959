"""The provisioning engine: ``up``, ``down``, ``status``, the gate, an app's env.

Everything here is async (anyio) and imports its heavy parts lazily, so a
command that does nothing stays fast. Public entry points:

- :func:`up` (``infra up``, ``omnitron run``): provision, gate on health, prepare, allocate;
- :func:`down`: stop and remove this stack's services (``volumes=True`` deletes data);
- :func:`status`: :class:`~omnitron.providers.InfrastructureState` of the stack;
- :func:`wait_ready`: the gate for one app, without provisioning;
- :func:`app_env`: an app's env with real secrets and recorded allocations;
- :class:`Session`: an open project + plan with its providers, state store and secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gate import GateResult, HealthPolicy, check_once, checks_for, wait_healthy, wait_ready
    from .monitor import HealthMonitor
    from .inspect import logs, status
    from .progress import LiveView, PlainView, Timeline
    from .provision import ServiceOutcome, UpResult, up
    from .render import app_env, runtime_spec
    from .session import Session
    from .teardown import DownResult, down

_EXPORTS = {
    "up": "provision",
    "UpResult": "provision",
    "ServiceOutcome": "provision",
    "down": "teardown",
    "DownResult": "teardown",
    "status": "inspect",
    "logs": "inspect",
    "wait_ready": "gate",
    "wait_healthy": "gate",
    "check_once": "gate",
    "checks_for": "gate",
    "GateResult": "gate",
    "HealthPolicy": "gate",
    "HealthMonitor": "monitor",
    "app_env": "render",
    "runtime_spec": "render",
    "Session": "session",
    "Timeline": "progress",
    "PlainView": "progress",
    "LiveView": "progress",
}

__all__ = ["DownResult", "GateResult", "HealthMonitor", "HealthPolicy", "LiveView", "PlainView", "ServiceOutcome", "Session", "Timeline", "UpResult", "app_env", "check_once", "checks_for", "down", "logs", "runtime_spec", "status", "up", "wait_healthy", "wait_ready"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
