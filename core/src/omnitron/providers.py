"""The provider interface (``docker``, ``process``, ``baremetal``, ...) and the state it reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from .plan import PlannedService

Status = Literal["not_found", "created", "running", "paused", "restarting", "exited", "dead"]
Health = Literal["healthy", "unhealthy", "starting", "none"]


class ContainerState(BaseModel):
    """State of one managed service (a container, a process, a remote server)."""

    name: str
    image: str = ""
    status: Status = "not_found"
    container_id: str | None = None
    ports: dict[str, int] | None = None
    health: Health | None = None
    started_at: str | None = None
    error: str | None = None
    provider: str = ""
    spec_hash: str | None = None
    note: str | None = None
    """What the health probe says about the running server (which server it is), when it has something to say."""


class InfrastructureState(BaseModel):
    services: dict[str, ContainerState] = {}
    ready: bool = False
    last_reconciled: str | None = None


@dataclass(frozen=True)
class RuntimeSpec:
    """A planned service with its runtime templates rendered (secrets included).

    Lives only in memory: it is handed to the provider and dropped.
    """

    service: PlannedService
    env: dict[str, str] = field(default_factory=dict)
    """Env of the container / process itself (``POSTGRES_PASSWORD``, ...)."""
    command: list[str] | None = None
    stdin: bytes | None = None
    """Config fed on stdin (process provider), so it never touches disk."""


@dataclass
class ExecResult:
    exit_code: int
    output: str


ProgressFn = Callable[[str, str, str], None]
"""``progress(service, phase, detail)``; phases: pulling, creating, starting, waiting, ready, failed."""


@dataclass
class ProviderContext:
    project: str
    stack: str
    project_dir: Path
    state_dir: Path
    """``<project>/.omnitron/<stack>``: where a provider may keep data and logs."""
    progress: ProgressFn = lambda service, phase, detail: None
    state: Any = None
    """The project's :class:`~omnitron.state.StateStore`."""
    plugins: Any = None
    """The :class:`~omnitron.plugins.PluginManager` of the command (presets, recipes)."""


class Provider(ABC):
    """Makes planned services run, and finds them again later.

    A provider is an async resource: use it with ``async with`` or call
    :meth:`aclose`. Everything it manages it finds by project+stack+service
    identity (labels for Docker, the state store for processes), never by
    guessing names.
    """

    name: ClassVar[str]
    install_hint: ClassVar[str] = ""

    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx

    @classmethod
    async def available(cls) -> bool:
        """Whether this provider can work on this machine now (``auto`` asks it)."""
        return True

    @abstractmethod
    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Make the service run as planned; recreate it only when its spec hash changed."""

    @abstractmethod
    async def list_managed(self) -> dict[str, ContainerState]:
        """Every service of this project and stack this provider manages, by service name."""

    @abstractmethod
    async def stop(self, name: str) -> None: ...

    @abstractmethod
    async def remove(self, name: str, *, volumes: bool = False) -> None:
        """Remove the service; with ``volumes``, its data too."""

    async def remove_all_data(self) -> None:
        """Remove data of services no longer declared (``down --volumes``)."""

    @abstractmethod
    def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]: ...

    @abstractmethod
    async def exec(self, name: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        """Run ``command`` where the service runs (inside the container)."""

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """Problems with host ports (taken by something not ours), one line each."""
        return []

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> "Provider":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
