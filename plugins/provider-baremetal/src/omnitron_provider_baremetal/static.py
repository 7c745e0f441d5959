"""``static`` discovery: the ``servers`` list of the declaration, as written."""

from __future__ import annotations

from typing import Any

from omnitron.api import BareMetalServiceConfig, ConfigError, ServiceRequirement

from .backend import DiscoveryBackend, DiscoveryQuery, Server, port_map


class StaticBackend(DiscoveryBackend):
    """``servers: [{host, port, ports, weight}]``: heavier healthy servers first, the others for failover."""

    name = "static"
    uses_servers = True

    def check(self, config: BareMetalServiceConfig, options: Any, requirement: ServiceRequirement) -> None:
        if not config.servers:
            raise ConfigError("static discovery needs at least one server", path="servers")
        for i, server in enumerate(config.servers):
            if server.port is not None and not requirement.ports:
                raise ConfigError("the service declares no ports for this port to stand for: declare ports (e.g. {\"main\": 5432})", path=f"servers.{i}.port")
            for name in server.ports:
                if name not in requirement.ports:
                    declared = ", ".join(sorted(requirement.ports)) or "(none)"
                    raise ConfigError(f"unknown port {name!r}; declared: {declared}", path=f"servers.{i}.ports.{name}")

    def describe(self, config: BareMetalServiceConfig, options: Any) -> str:
        count = len(config.servers)
        return f"static discovery ({count} server{'s' if count != 1 else ''})"

    async def discover(self, query: DiscoveryQuery) -> list[Server]:
        return [
            Server(s.host, port_map(query.declared_ports, port=s.port, ports=s.ports), s.weight, f"servers.{i}")
            for i, s in enumerate(query.config.servers)
        ]
