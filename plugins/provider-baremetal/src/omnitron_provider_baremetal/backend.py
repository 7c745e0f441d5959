"""The discovery backend interface: how a bare-metal service finds the servers it may connect to.

A backend is registered through ``omnitron_baremetal_add_discovery_backends``
(see :mod:`.hookspecs`). What crosses the boundary: the declaration's
``bareMetal`` part with the backend's options validated (:class:`DiscoveryQuery`)
in, the servers found (:class:`Server`) out. Choosing among them, probing their
health and failing over is the provider's job, the same for every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from omnitron.api import BareMetalServiceConfig, ConfigError, ProvisionError, ServiceRequirement, format_validation_error


class BackendOptions(BaseModel):
    """Base of a backend's options model: unknown keys are errors, camelCase and snake_case both accepted."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


@dataclass(frozen=True)
class Server:
    """A server a backend found: where apps would connect."""

    host: str
    ports: dict[str, int] = field(default_factory=dict)
    """By declared port name."""
    weight: int = 1
    """Heavier healthy servers are chosen first; 0: a standby, chosen only when no other is healthy."""
    source: str = ""
    """Where it came from, for people (``node db-1``, ``pod pg-0``)."""

    @property
    def address(self) -> str:
        return f"{self.host}:{','.join(str(p) for p in self.ports.values())}"


@dataclass
class DiscoveryQuery:
    """What a backend is asked at run time."""

    service: str
    """The omnitron service (``db``)."""
    config: BareMetalServiceConfig
    options: Any
    """The backend's options, validated by its :attr:`DiscoveryBackend.options_model` (``None`` without one)."""
    declared_ports: dict[str, int]
    """The service's declared ports by name (their numbers apply where a server gives none)."""
    secret: Callable[[str], str]
    """The service's logical secret name -> value (a token in the options is ``${secret:NAME}``)."""
    timeout: float = 5.0
    """Seconds one request to a discovery service may take."""


class DiscoveryError(ProvisionError):
    """Servers cannot be discovered: one line naming the option at fault (``field``, relative to ``bareMetal``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class DiscoveryBackend(ABC):
    """Finds the servers of a bare-metal service.

    - :attr:`name`: the value of ``bareMetal.discovery``, and the key of its options;
    - :attr:`options_model`: validates ``bareMetal.<name>`` when planning (``None``: it takes none);
    - :attr:`uses_servers`: it reads ``bareMetal.servers`` (only ``static`` does; for the others a list is an error);
    - :meth:`check`: further checks when planning (pure);
    - :meth:`describe`: one line for people (``consul service pg at http://127.0.0.1:8500``);
    - :meth:`discover`: the servers now (async I/O; raise :class:`DiscoveryError`).
    """

    name: ClassVar[str]
    options_model: ClassVar[type[BaseModel] | None] = None
    uses_servers: ClassVar[bool] = False

    def parse(self, config: BareMetalServiceConfig) -> Any:
        """The options of ``config`` validated by :attr:`options_model` (a :class:`ConfigError` relative to ``bareMetal``)."""
        raw = config.backend_options
        if self.options_model is None:
            if raw:
                raise ConfigError(f"{self.name} discovery takes no options", path=self.name)
            return None
        # the older spelling is named only where options were written in it: a backend given none is told under its own key
        where = "options" if config.options and self.name not in (config.model_extra or {}) else self.name
        try:
            return self.options_model.model_validate(raw)
        except ValidationError as exc:
            raise format_validation_error(exc, file=None, prefix=where, data=raw) from None

    def check(self, config: BareMetalServiceConfig, options: Any, requirement: ServiceRequirement) -> None:
        """Checks beyond the options model, when planning (pure); raise :class:`ConfigError` relative to ``bareMetal``."""

    def describe(self, config: BareMetalServiceConfig, options: Any) -> str:
        return f"{self.name} discovery"

    @abstractmethod
    async def discover(self, query: DiscoveryQuery) -> list[Server]:
        """The servers there are now (not yet probed); an empty list when none is found."""


def port_map(declared: Mapping[str, int], *, port: int | None = None, ports: Mapping[str, int] | None = None) -> dict[str, int]:
    """A server's port by declared port name: ``port`` for the first declared one, ``ports`` by name, the declared number otherwise."""
    out = dict(declared)
    if port is not None and declared:
        out[next(iter(declared))] = port
    out.update(ports or {})
    return out


def secret_name(template: str) -> str | None:
    """``NAME`` of a ``${secret:NAME}`` template, or ``None`` when ``template`` is not exactly one."""
    if template.startswith("${secret:") and template.endswith("}") and template.count("${") == 1:
        name = template[len("${secret:"):-1]
        return name or None
    return None


def check_secret_ref(template: str | None, requirement: ServiceRequirement, *, path: str) -> None:
    """A token given as ``${secret:NAME}`` naming a secret the service declares (never a plain value)."""
    if template is None:
        return
    name = secret_name(template)
    if name is None:
        raise ConfigError('write it as "${secret:NAME}" with NAME declared in the service\'s secrets (`omnitron secret set KEY`), never as a plain value', path=path)
    if name not in requirement.secrets:
        declared = ", ".join(sorted(requirement.secrets)) or "(none)"
        raise ConfigError(f"unknown secret {name!r}; declared in secrets: {declared}", path=path)
