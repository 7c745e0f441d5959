"""Upstream names: one per app port and per service port of the stack, as the gateway's files name them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnitron.api import Plan


@dataclass(frozen=True)
class Upstream:
    name: str
    address: str
    """``host:port``."""
    what: str
    """``app orders, port http``: a comment for people."""
    kind: str
    """``app`` or ``service``."""


def upstream_names(plan: Plan, addresses: Mapping[str, Mapping[str, tuple[str, int]]], *, exclude: str | None = None) -> list[Upstream]:
    """Every upstream, sorted by name: ``<app>`` (its primary port) and ``<app>.<port>`` for each of its ports;
    ``<service>.<port>`` for each port of every other service (``/`` of app-scoped names written ``+``).

    :raises LookupError: two of them would have the same name.
    """
    found: list[Upstream] = []
    for app, ports in sorted(addresses.items()):
        primary = plan.apps[app].primary_port() if app in plan.apps else None
        if primary in ports:
            found.append(Upstream(app, _addr(ports[primary]), f"app {app}, port {primary}", "app"))
        found += [Upstream(f"{app}.{name}", _addr(ports[name]), f"app {app}, port {name}", "app") for name in sorted(ports)]
    for svc in plan.services:
        if svc.name == exclude:
            continue
        host = "127.0.0.1" if svc.host in ("localhost", "0.0.0.0") else svc.host
        safe = svc.name.replace("/", "+")
        found += [Upstream(f"{safe}.{name}", _addr((host, port)), f"service {svc.name}, port {name}", "service") for name, port in sorted(svc.ports.items())]
    seen: dict[str, Upstream] = {}
    for up in found:
        if up.name in seen:
            raise LookupError(f"upstream name {up.name!r} stands for both {seen[up.name].what} and {up.what}: rename one")
        seen[up.name] = up
    return sorted(found, key=lambda u: u.name)


def _addr(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
