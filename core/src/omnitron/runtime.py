"""What presets and probes see of a running service, and what a command run where it runs returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import Plan, PlannedService


@dataclass
class ExecResult:
    exit_code: int
    output: str


@dataclass
class ServiceHandle:
    """A provisioned service, as presets (``prepare``/``allocate``) and health probes use it.

    :param secret: resolves a logical secret name of the service to its value.
    :param exec: runs a command where the service runs (inside its container).
    :param state: the project's state store (allocations are recorded there).
    :param redis_db_offset: the stack's ``redisDbOffset``: the first DB index a Redis-like preset hands to apps.
    :param plan: the whole plan of the stack (a gateway preset reads the other services and apps from it).
    :param provider: the provider instance running the service.
    """

    service: PlannedService
    project: str
    stack: str
    host: str
    ports: dict[str, int]
    secret: Callable[[str], str]
    exec: Callable[[list[str]], Awaitable[ExecResult]]
    state: Any = None
    log: Callable[[str], None] = lambda msg: None
    redis_db_offset: int = 0
    plan: Plan | None = None
    provider: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else a plugin passes along (the engine puts nothing here)."""

    @property
    def name(self) -> str:
        return self.service.name

    def port(self, name: str | int) -> int:
        """Host port for a port name, or for a port number as declared."""
        if isinstance(name, str) and name in self.ports:
            return self.ports[name]
        for key, target in self.service.target_ports.items():
            if str(target) == str(name):
                return self.ports[key]
        if isinstance(name, int) or str(name).isdigit():
            return int(name)
        raise KeyError(f"service {self.name} declares no port {name!r}")
