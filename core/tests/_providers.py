"""Stand-ins for the docker, process and baremetal providers, for core tests that plan.

The core alone has no provider but ``external``: these describe themselves
the way the real packages do (what they run from, host ports, priorities), so
the planner's choice can be tested with the core alone. They run nothing.
"""

from __future__ import annotations

from omnitron import hookimpl
from omnitron.errors import ConfigError
from omnitron.providers import PlannedAddress, Provider


class _PlanOnly(Provider):
    async def ensure(self, spec):
        raise NotImplementedError("stand-in provider: plans only")

    async def list_managed(self):
        return {}

    async def stop(self, name):
        return None

    async def remove(self, name, *, volumes=False):
        return None

    async def logs(self, name, *, follow=False, tail=None):
        raise NotImplementedError("stand-in provider: plans only")
        yield ""  # pragma: no cover

    async def exec(self, name, command, *, timeout=None, input=None):
        raise NotImplementedError("stand-in provider: plans only")


class DockerStandIn(_PlanOnly):
    name = "docker"
    runs_from = "docker"
    assigns_host_ports = True
    auto_priority = 20
    data_noun = "its volumes"


class ProcessStandIn(_PlanOnly):
    name = "process"
    runs_from = "process"
    assigns_host_ports = True
    auto_priority = 10
    data_noun = "its data directory"

    @classmethod
    def cannot_run(cls, requirement, preset):
        return "cannot run as a native process (no process recipe or command); use the docker provider"


class BareMetalStandIn(_PlanOnly):
    name = "baremetal"
    runs_from = "bare_metal"
    manages_lifecycle = False
    auto_priority = 0

    @classmethod
    def check_part(cls, part, requirement, plugins):
        if part.discovery == "static" and not part.servers:
            raise ConfigError("static discovery needs at least one server", path="servers")

    @classmethod
    def planned_address(cls, requirement):
        servers = requirement.bare_metal.servers
        if not servers:
            return PlannedAddress(f"<{requirement.bare_metal.discovery}>")
        return PlannedAddress(max(servers, key=lambda s: s.weight).host)


class StandInProviders:
    @hookimpl
    def omnitron_add_providers(self):
        return [DockerStandIn, ProcessStandIn, BareMetalStandIn]
