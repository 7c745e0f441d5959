"""The ecosystem layer: ``omnitron.config.py`` / ``omnitron.toml``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ._base import Duration, Model, Name, Port
from .service import BareMetalServiceConfig, DockerOptions, ServiceEntry

LEGACY_PRESETS: dict[str, str] = {
    "postgres": "postgres",
    "redis": "redis",
    "minio": "minio",
    "gateway": "openresty",
    "tor": "tor",
}
"""Legacy ``infrastructure`` keys and the preset each one stands for (``containers`` aside)."""


class InfrastructureConfig(Model):
    """``infrastructure``: the unified ``services`` map, or the legacy shape.

    The legacy keys ``postgres``, ``redis``, ``minio``, ``gateway``, ``tor`` and
    ``containers`` are normalised into ``services`` on load.
    """

    services: dict[Name, ServiceEntry] = {}

    @model_validator(mode="before")
    @classmethod
    def _normalise_legacy(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        legacy = [k for k in (*LEGACY_PRESETS, "containers") if k in data]
        if not legacy:
            return data
        data = dict(data)
        services = data.pop("services", None) or {}
        if not isinstance(services, dict):
            raise ValueError("services: expected a map of service name to service")
        services = dict(services)
        for key in legacy:
            value = data.pop(key)
            if key == "containers":
                if not isinstance(value, dict):
                    raise ValueError("containers: expected a map of service name to service")
                entries = value
            else:
                if value is False or value is None:
                    continue
                if value is True:
                    value = {}
                if not isinstance(value, dict):
                    raise ValueError(f"{key}: expected a map of {LEGACY_PRESETS[key]} preset options or true")
                if value.get("enabled", True) is False:
                    continue
                config = {k: v for k, v in value.items() if k != "enabled"}
                entries = {key: {"preset": LEGACY_PRESETS[key], "config": config}}
            for name, entry in entries.items():
                if name in services:
                    raise ValueError(f"service {name!r} is declared both in services and in the legacy {key!r} key")
                services[name] = entry
        data["services"] = services
        return data


class ExternalService(Model):
    """Point at an existing server instead of provisioning."""

    host: Annotated[str, Field(min_length=1)]
    ports: dict[Name, Port] = {}


class ServiceOverride(Model):
    """``IServiceOverride``: what a stack changes about one service."""

    external: ExternalService | None = None
    docker: DockerOptions | None = None
    bare_metal: BareMetalServiceConfig | None = None
    disabled: bool = False
    critical: bool | None = None
    startup_timeout: Duration | None = None


class StackConfig(Model):
    """One deployment target (``dev``, ``test``, ``prod``, ...)."""

    type: Literal["local", "remote", "cluster"] = "local"
    service_overrides: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")], ServiceOverride] = {}
    """Keys are ``service`` or ``app/service`` (the app-scoped key wins)."""
    port_offsets: int | dict[str, int] = 0
    """Added to every host port: one number for all services, or per service with ``"*"`` as default."""
    redis_db_offset: Annotated[int, Field(ge=0)] = 0
    network_mode: str | None = None
    provider: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")] = "auto"
    """``auto`` (the best available installed provider for each service) or an installed provider's name; checked when planning."""
    bind_address: str = "127.0.0.1"
    """Address host ports bind to; 127.0.0.1 unless a stack says otherwise."""
    reconcile_interval: Annotated[Duration, Field(ge=100)] | None = None
    """How often the daemon reconciles this stack; the ecosystem's ``reconcileInterval`` when absent."""
    phantom_retention: Duration | None = None
    """How long a phantom endpoint stays recorded; the ecosystem's ``phantomRetention`` when absent."""


class AppRef(Model):
    """An app of the ecosystem and where it lives."""

    name: Name
    path: str | None = None
    """Directory holding ``config/default.json``; ``apps/<name>`` when absent."""
    command: list[str] | None = None
    """Default command for ``omnitron run APP`` when none is given."""
    ports: dict[Name, Port] = {}
    """Ports the app listens on, by name; merged over the ``ports`` of the app's own config."""


class SecretsConfig(Model):
    backend: Annotated[str, Field(min_length=1)] = "file"
    """Secret backend: ``file`` (encrypted store, built in) or one a plugin registers."""


class EcosystemConfig(Model):
    """The whole ecosystem declaration (``defineEcosystem`` / ``define_ecosystem``)."""

    project: Name | None = None
    """Project name used in labels and state; the directory name when absent."""
    apps: list[AppRef] = []
    infrastructure: InfrastructureConfig = InfrastructureConfig()
    stacks: dict[Name, StackConfig] = {"dev": StackConfig()}
    default_stack: Name = "dev"
    secrets: SecretsConfig = SecretsConfig()
    daemon: bool = True
    """Whether ``infra up`` starts the project's daemon (``omnitron daemon``), which keeps the stack as declared."""
    reconcile_interval: Annotated[Duration, Field(ge=100)] = 30_000
    """How often the daemon reconciles each stack that is up (a stack's own ``reconcileInterval`` wins)."""
    reconcile_backoff: Annotated[Duration, Field(ge=100)] = 30_000
    """First wait after a failed repair of a service; it doubles on every further failure."""
    reconcile_backoff_max: Annotated[Duration, Field(ge=100)] = 900_000
    """Longest wait between repairs of a service that keeps failing."""
    phantom_retention: Duration = 86_400_000
    """How long the daemon keeps a phantom endpoint (one handed to an app no longer declared) before dropping it."""

    @field_validator("apps")
    @classmethod
    def _unique_apps(cls, apps: list[AppRef]) -> list[AppRef]:
        seen: set[str] = set()
        for app in apps:
            if app.name in seen:
                raise ValueError(f"app {app.name!r} is declared twice")
            seen.add(app.name)
        return apps

    @model_validator(mode="after")
    def _check(self) -> "EcosystemConfig":
        if self.default_stack not in self.stacks:
            self.stacks = {**self.stacks, self.default_stack: StackConfig()}
        return self
