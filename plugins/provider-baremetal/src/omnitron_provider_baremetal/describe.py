"""The bare-metal provider as the planner sees it: what it runs from, how it checks a declaration, where apps connect.

Light to import (``infra plan`` reads every installed provider's description):
the methods that connect to servers are in :mod:`.runner`.
"""

from __future__ import annotations

from typing import Any

from omnitron.api import PENDING, BareMetalServiceConfig, ConfigError, PlannedAddress, Provider, ServiceRequirement

from .hookspecs import DISCOVERY_HOOK


def backends(plugins: Any) -> Any:
    """Discovery backend name -> backend instance, from every installed plugin."""
    return plugins.registry(DISCOVERY_HOOK)


def heaviest(config: BareMetalServiceConfig) -> Any:
    """The static server chosen at plan time: the heaviest, the first of equals."""
    return max(enumerate(config.servers), key=lambda pair: (pair[1].weight, -pair[0]))[1]


class BareMetalProvider(Provider):
    """Connects to servers that already exist; never provisions, stops or removes one."""

    name = "baremetal"
    runs_from = "bare_metal"
    manages_lifecycle = False
    assigns_host_ports = False
    auto_priority = 0
    data_noun = "nothing: an existing server keeps its data"
    install_hint = "pip install omnitron-provider-baremetal"
    implementation = "omnitron_provider_baremetal.runner:BareMetalRunner"

    @classmethod
    def check_part(cls, part: BareMetalServiceConfig, requirement: ServiceRequirement, plugins: Any) -> None:
        """``discovery`` names an installed backend, whose options (``bareMetal.<name>``) its own model validates."""
        installed = backends(plugins)
        names = ", ".join(sorted(installed))
        if part.discovery not in installed:
            raise ConfigError(f"unknown discovery {part.discovery!r}; installed: {names}", path="discovery")
        for key in part.model_extra or {}:
            if key not in installed:
                raise ConfigError(f"unknown key (neither a bareMetal field nor an installed discovery backend: {names})", path=key)
            if key != part.discovery:
                raise ConfigError(f"options of {key} discovery, but discovery is {part.discovery!r}", path=key)
        if part.options and part.discovery in (part.model_extra or {}):
            raise ConfigError(f"give the {part.discovery} options once, under {part.discovery} (options is the older spelling)", path="options")
        backend = installed[part.discovery]
        if part.servers and not backend.uses_servers:
            raise ConfigError(f"{part.discovery} discovery finds its servers itself: servers is only read by static discovery", path="servers")
        backend.check(part, backend.parse(part), requirement)

    @classmethod
    def planned_address(cls, requirement: ServiceRequirement) -> PlannedAddress:
        """Static servers: the heaviest, until the health of each is known at run time; discovered ones: pending."""
        config = requirement.bare_metal
        assert config is not None
        if not config.servers:
            return PlannedAddress(PENDING, {}, note=f"{config.discovery} discovery: the server is found at run time")
        server = heaviest(config)
        from .backend import port_map  # the backends' models: built only when a bare-metal service is planned

        ports = port_map(requirement.ports, port=server.port, ports=server.ports)
        if len(config.servers) == 1:
            return PlannedAddress(server.host, ports)
        return PlannedAddress(server.host, ports, note=f"the heaviest of {len(config.servers)} static servers; at run time, the heaviest healthy one")
