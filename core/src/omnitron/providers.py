"""The provider interface: what makes a planned service run, how a provider describes itself, and the state it reports.

A provider is a class registered with ``omnitron_add_providers``. Its class
attributes and classmethods *describe* it, so the core never names one: the
planner receives these descriptions as plain data (:class:`ProviderDescriptor`)
and picks a provider per service; ``down``, ``reset``, ``status`` and the
client shells read them to know what the provider owns. Its instance methods
(``ensure``, ``list_managed``, ``stop``, ``remove``, ``logs``, ``exec``, ...)
do the work, asynchronously, for one project and stack.

What crosses the boundary: a :class:`RuntimeSpec` in (the planned service with
its runtime templates rendered, secrets included; it lives only in memory),
:class:`ContainerState` out. Nothing else: a provider finds what it manages by
project + stack + service identity (labels, recorded records), never by names
it guesses, and never touches what it did not create.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_serializer
from pydantic.alias_generators import to_camel

from .head_start_recipe import HeadStart
from .process import RuntimeSpec
from .runtime import ExecResult

if TYPE_CHECKING:
    from .model import ServiceRequirement
    from .plan import PlannedService
    from .presets import Preset
    from .quickcheck import QuickCheck

__all__ = [
    "Allocation", "Candidate", "ContainerState", "ExecResult", "HeadStart", "InfrastructureState", "PlannedAddress", "ProgressFn", "Provider", "ProviderContext",
    "ProviderDescriptor", "RuntimeSpec",
]

Status = Literal["not_found", "created", "running", "paused", "restarting", "exited", "dead"]
Health = Literal["healthy", "unhealthy", "starting", "none"]

class Candidate(BaseModel):
    """One of the servers a provider chose among (each server a bare-metal service may connect to)."""

    host: str
    ports: dict[str, int] = {}
    weight: int | None = None
    health: Health | None = None
    detail: str | None = None
    """The last probe's result (``postgres 10.0.1.10:5432: connection refused``)."""
    chosen: bool = False


class ContainerState(BaseModel):
    """State of one managed service (a container, a process, a remote server).

    ``model_dump(mode="json", by_alias=True)`` spells it as the spec's ``ContainerState`` whatever its provider
    (``containerId``, ``startedAt``): ``health`` ``none`` when nothing runs to be probed, ``startedAt`` in ISO 8601
    UTC to the second. The attributes keep what the provider said (its quick checks compare ``started_at`` as is).
    """

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)

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
    host: str | None = None
    """Where apps reach it, when its provider chose that at run time (a discovered, healthy server):
    the engine records it with ``ports`` and apps' env uses it instead of the planned address."""
    reason: str | None = None
    """Why that server was chosen (``heaviest healthy server``, ``failover: ...``)."""
    candidates: list[Candidate] | None = None
    """Every server it chose among, with its health."""
    waiting_for: str | None = None
    """The dependency this service waits for after the reconciler restarted it (re-gated), else ``None``."""
    note: str | None = None
    """What the health probe says about the running server (which server it is), when it has something to say."""

    @field_serializer("health", when_used="json")
    def _spoken_health(self, health: Health | None) -> Health | None:
        return "none" if health is None and self.status != "running" else health

    @field_serializer("started_at", when_used="json")
    def _spoken_started_at(self, started_at: str | None) -> str | None:
        from .isotime import iso_utc

        return iso_utc(started_at) if started_at else started_at


class Allocation(BaseModel):
    """A per-app resource recorded on a service (a database, a Redis DB index, a bucket), with the app that owns it."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)

    service: str
    kind: str
    name: str
    app: str
    values: dict[str, Any] = {}


class InfrastructureState(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)

    services: dict[str, ContainerState] = {}
    ready: bool = False
    last_reconciled: str | None = None
    allocations: list[Allocation] = []
    """What the stack's apps hold on its services, as recorded."""

    def as_json(self) -> dict[str, Any]:
        """The spec's ``InfrastructureState`` with camelCase keys (what ``infra status --json`` and the daemon's API print)."""
        return self.model_dump(mode="json", by_alias=True)


ProgressFn = Callable[[str, str, str], None]
"""``progress(service, phase, detail)``; phases: pulling, creating, starting, waiting, ready, failed."""


@dataclass
class ProviderContext:
    project: str
    stack: str
    project_dir: Path
    state_dir: Path
    """``<project>/.omnitron/stacks/<stack>``: where a provider may keep data and logs."""
    progress: ProgressFn = lambda service, phase, detail: None
    state: Any = None
    """The project's :class:`~omnitron.state.StateStore` (per-provider records live there)."""
    plugins: Any = None
    """The :class:`~omnitron.plugins.PluginManager` of the command."""


@dataclass(frozen=True)
class PlannedAddress:
    """Where apps reach a service, when the provider knows it at plan time (a remote server)."""

    host: str
    ports: dict[str, int] = field(default_factory=dict)
    """Ports that differ from the declared ones (by port name)."""
    note: str = ""
    """How it was chosen, when the provider chooses again at run time (``infra plan`` shows it)."""


@dataclass(frozen=True)
class ProviderDescriptor:
    """What the planner and the engine know of an installed provider: plain data and two pure functions.

    Built by :meth:`Provider.describe` from the class's attributes.
    """

    name: str
    runs_from: str | None
    assigns_host_ports: bool
    manages_lifecycle: bool
    auto_priority: int | None
    data_noun: str
    can_run: Callable[[ServiceRequirement, Preset | None], bool]
    cannot_run: Callable[[ServiceRequirement, Preset | None], str]
    planned_address: Callable[[ServiceRequirement], PlannedAddress | None]
    check_part: Callable[[Any, ServiceRequirement, Any], None] = lambda part, requirement, plugins: None
    available: bool | None = None
    """The answer of :meth:`Provider.is_available` when it was asked (``auto``), else ``None``."""


class Provider(ABC):
    """Makes planned services run, and finds them again later.

    **Describing itself** (class attributes and classmethods, read without an
    instance; see :class:`ProviderDescriptor`):

    - :attr:`name`: what ``--provider`` and a stack's ``provider`` say;
    - :attr:`runs_from`: the part of a requirement it runs from (a field of
      :class:`~omnitron.model.ServiceRequirement`: ``docker``, ``process``,
      ``bare_metal``), or ``None`` for one that runs nothing (``external``);
    - :attr:`assigns_host_ports`: host ports are chosen here (port offsets,
      collision checks between services, the stack's bind address);
    - :attr:`manages_lifecycle`: omnitron runs what it provides, so ``down`` and
      ``reset`` stop and remove it and a dead one fails the gate at once;
    - :attr:`auto_priority`: ``auto`` picks, per service, the available provider
      with the highest priority that :meth:`can_run` it (``None``: never chosen
      by ``auto``, only when a stack or ``--provider`` names it);
    - :meth:`is_available`: a cheap check that it can work here now (asked for ``auto``);
    - :meth:`can_run`: pure, whether it can run a requirement;
    - :meth:`check_part`: pure, whether the part it runs from is valid (plan time);
    - :meth:`planned_address`: where apps connect, when known at plan time;
    - :attr:`data_noun`: what ``reset`` destroys of a service (``its volumes``).

    Reading the description must stay cheap (``infra plan`` reads every
    installed provider's): a provider whose code is heavy to import keeps this
    class light and names a subclass holding the methods in
    :attr:`implementation`; making an instance imports it then.

    **Doing the work**: an instance is an async resource for one project and
    stack (use it with ``async with`` or call :meth:`aclose`).
    """

    name: ClassVar[str]
    install_hint: ClassVar[str] = ""
    runs_from: ClassVar[str | None] = None
    assigns_host_ports: ClassVar[bool] = False
    manages_lifecycle: ClassVar[bool] = True
    auto_priority: ClassVar[int | None] = None
    data_noun: ClassVar[str] = "its data"
    implementation: ClassVar[str | None] = None
    """``"package.module:Class"``, a subclass with the methods, imported when the first instance is made."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Provider":
        target = cls.__dict__.get("implementation")
        if target:
            from importlib import import_module

            module, _, attr = target.partition(":")
            impl = getattr(import_module(module), attr)
            if not (isinstance(impl, type) and issubclass(impl, cls)):
                raise TypeError(f"{cls.__name__}.implementation {target!r} is not a subclass of {cls.__name__}")
            return super().__new__(impl)
        return super().__new__(cls)

    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx

    # -- describing itself (pure, no instance) ----------------------------------

    @classmethod
    def is_available(cls) -> bool:
        """Whether this provider can work on this machine now; cheap and synchronous (``auto`` asks it)."""
        return True

    @classmethod
    async def available(cls) -> bool:
        """The async form of :meth:`is_available` (a provider may check more thoroughly here)."""
        return cls.is_available()

    @classmethod
    def can_run(cls, requirement: ServiceRequirement, preset: Preset | None) -> bool:
        """Whether this provider can run ``requirement`` (pure).

        ``requirement`` is what the stack makes of the declaration: overrides
        applied, the docker variant chosen, and a ``process`` section when the
        preset has a process recipe. The default: it has the :attr:`runs_from` part.
        """
        return cls.runs_from is not None and getattr(requirement, cls.runs_from, None) is not None

    @classmethod
    def cannot_run(cls, requirement: ServiceRequirement, preset: Preset | None) -> str:
        """Why :meth:`can_run` said no, for a plan error when this provider was asked for explicitly."""
        what = (cls.runs_from or "").replace("_", " ")
        return f"has no {what} config, so the {cls.name} provider cannot run it"

    @classmethod
    def planned_address(cls, requirement: ServiceRequirement) -> PlannedAddress | None:
        """Host (and ports) apps connect to, when known at plan time (pure); ``None``: ``127.0.0.1`` and the planned ports."""
        return None

    @classmethod
    def check_part(cls, part: Any, requirement: ServiceRequirement, plugins: Any) -> None:
        """Check the part of a declaration this provider runs from (pure; when planning, whichever provider is chosen).

        :param part: the requirement's :attr:`runs_from` part (its model, overrides applied).
        :param plugins: the :class:`~omnitron.plugins.PluginManager` (its registries, e.g. a
            provider's own kinds through ``plugins.registry(HOOK)``).
        :raises ConfigError: with a ``path`` relative to the part (``discovery``); the planner
            names the file and the part's place in it.
        """

    @classmethod
    def describe(cls, *, available: bool | None = None) -> ProviderDescriptor:
        return ProviderDescriptor(
            name=cls.name,
            runs_from=cls.runs_from,
            assigns_host_ports=cls.assigns_host_ports,
            manages_lifecycle=cls.manages_lifecycle,
            auto_priority=cls.auto_priority,
            data_noun=cls.data_noun,
            can_run=cls.can_run,
            cannot_run=cls.cannot_run,
            planned_address=cls.planned_address,
            check_part=cls.check_part,
            available=available,
        )

    # -- doing the work ------------------------------------------------------------

    @abstractmethod
    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Make the service run as planned; recreate it only when its spec hash changed."""

    async def observe(self, spec: RuntimeSpec) -> ContainerState:
        """The state of a service it does not manage, now, changing nothing (``infra status`` asks; probe once, never wait).

        The default asks :meth:`ensure`, which for a server omnitron does not run changes nothing either.
        """
        return await self.ensure(spec)

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
    async def exec(self, name: str, command: list[str], *, timeout: float | None = None, input: bytes | None = None) -> ExecResult:
        """Run ``command`` where the service runs (inside the container), output captured.

        :param input: bytes written to the command's standard input, which is then
            closed (a restore feeds a dump this way); ``None``: no input (stdin at EOF).
        """

    async def interactive_argv(self, name: str, command: list[str], *, env_names: tuple[str, ...] = ()) -> list[str] | None:
        """An argv that runs ``command`` interactively where the service runs (``docker exec -it ...``), or ``None``.

        ``env_names`` are passed by name only: their values come from the
        environment of whoever runs the argv, never from an argument list.
        """
        return None

    def quick_checks(self, state: ContainerState) -> list[QuickCheck] | None:
        """Cheap checks, run later with the standard library alone, that the service it reports in ``state`` (running,
        as this command just saw it) is still that one and still runs: the plan cache runs them instead of asking
        this provider (:mod:`omnitron.plancache`). Sync and cheap; plain data out (:class:`~omnitron.quickcheck.QuickCheck`).

        A check must fail when the service is gone or is another instance (restarted, recreated), since the cached
        ``infra status`` would then be wrong. ``None`` (the default): no such checks, so the commands of a stack
        using this provider always take their full path; ``[]``: nothing to check beyond the health probes' own
        quick checks (a server omnitron does not run).
        """
        return None

    def head_start(self, spec: RuntimeSpec, marked: RuntimeSpec) -> HeadStart | None:
        """How to start the service of ``spec`` (just made running by :meth:`ensure` in a cold ``up``) again from
        nothing next time, ahead of planning (:class:`HeadStart`); ``None`` (the default): not offered.

        ``marked`` is ``spec`` rendered with a token in place of each secret: the recipe is built from it, and
        whatever must hold the real values (a digest of the rendered env) from ``spec``. Offer one only where the
        runner can do exactly what :meth:`ensure` just did and where the full path then finds the service as its own
        (same spec, nothing left to prepare before it starts). Sync and cheap.
        """
        return None

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """Problems with host ports (taken by something not ours), one line each."""
        return []

    async def begin_up(self, services: list[PlannedService]) -> None:
        """An ``up`` of ``services`` has begun: start on what they all need (a network), while the engine checks ports.

        It runs beside the checks before any service starts (and is cancelled when
        one fails), so it must be safe to do even if nothing starts after it; it
        must not fail the ``up``: whatever it could not do, the :meth:`ensure`
        that needs it does again and reports. The default does nothing.
        """
        return None

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> "Provider":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
