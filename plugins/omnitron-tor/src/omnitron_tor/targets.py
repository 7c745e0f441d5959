"""Where a hidden service forwards to, resolved through the plan. Pure: no I/O.

A target is written as:

- ``app``: the app's declared port on 127.0.0.1 (its only port, or the one
  named ``http``); ``app:NAME`` picks another one;
- ``service:port``: that service's host port (a port name, or the port number
  as declared; offsets applied), on the host apps connect to;
- ``host:port`` / ``[v6]:port``: as written.

tor reaches these from the host: as a native process, or in a container on
the host's network.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnitron.api import AppPlan, Plan, PlannedService

APP_HOST = "127.0.0.1"


def resolve(target: str, plan: Plan) -> str:
    """``host:port`` that ``target`` stands for in ``plan``; ``LookupError`` saying why not."""
    if target.startswith("["):
        return target
    name, sep, port = target.partition(":")
    service = _service(plan, name)
    app = plan.apps.get(name)
    if not sep:
        if app is not None:
            return f"{APP_HOST}:{_app_port(app, None)}"
        if service is not None:
            return _service_address(service, None)
        raise LookupError(f"no app named {name!r} (a bare target is an app); apps: {_names(plan.apps)}")
    if service is not None:
        return _service_address(service, port)
    if app is not None:
        return f"{APP_HOST}:{_app_port(app, port)}"
    if port.isdigit():
        return target
    raise LookupError(f"no app or service named {name!r}; apps: {_names(plan.apps)}; services: {_names({s.name: s for s in plan.services})}")


def _service(plan: Plan, name: str) -> PlannedService | None:
    return next((s for s in plan.services if s.name == name), None)


def _service_address(svc: PlannedService, port: str | None) -> str:
    host = "127.0.0.1" if svc.host in ("localhost", "0.0.0.0") else svc.host
    if port is None:
        if len(svc.ports) != 1:
            raise LookupError(f"service {svc.name} has {len(svc.ports) or 'no'} ports: write {svc.name}:PORT with one of {_names(svc.ports)}")
        return f"{host}:{next(iter(svc.ports.values()))}"
    if port in svc.ports:
        return f"{host}:{svc.ports[port]}"
    for key, declared in svc.target_ports.items():
        if port == str(declared) and key in svc.ports:
            return f"{host}:{svc.ports[key]}"
    raise LookupError(f"service {svc.name} has no port {port!r}; ports: {_names(svc.ports)}")


def _app_port(app: AppPlan, port: str | None) -> int:
    ports = app.ports
    if not ports:
        raise LookupError(f'app {app.name} declares no port: add "ports": {{"http": 3000}} under "omnitron" in its config, or to its entry in the ecosystem\'s apps')
    if port is None:
        if len(ports) == 1:
            return next(iter(ports.values()))
        if "http" in ports:
            return ports["http"]
        raise LookupError(f"app {app.name} declares several ports: write {app.name}:PORT with one of {_names(ports)}")
    if port in ports:
        return ports[port]
    if port.isdigit() and int(port) in ports.values():
        return int(port)
    raise LookupError(f"app {app.name} declares no port {port!r}; ports: {_names(ports)}")


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"
