"""The universal service shape (``IServiceRequirement``) and everything it contains."""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, WithJsonSchema, field_validator, model_validator

from ._base import Duration, Model, Name, Port

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""What an env variable's name may be (the schema's spelling of the check below)."""

NS_PER_MS = 1_000_000
"""The Docker Engine API counts durations in nanoseconds; ours are milliseconds."""

HOST_NETWORK = "host"
"""``docker.network.name`` that runs the container in the host's network namespace."""

ServiceType = Literal["database", "cache", "daemon", "gateway", "storage", "sidecar", "tool"]


def _split_command(value: Any) -> Any:
    if isinstance(value, str):
        parts = shlex.split(value)
        if not parts:
            raise ValueError("command is empty")
        return parts
    return value


Command = Annotated[
    list[str],
    BeforeValidator(_split_command),
    Field(min_length=1),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": "\\S"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}], "description": "an argument list, or a string split as a shell would"}),
]
"""A command as a list of arguments; a string is split like a shell would."""


class SecretRef(Model):
    """A reference to a key in the secret store: ``{"secret": "production_db_password"}``."""

    secret: Annotated[str, Field(min_length=1)]
    """The key in the secret store (``omnitron secret set KEY``)."""


def _refuse_plain_secret(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(
            'a plain string is not allowed here: store the value with `omnitron secret set KEY` '
            'and write {"secret": "KEY"}'
        )
    return value


SecretRefField = Annotated[SecretRef, BeforeValidator(_refuse_plain_secret)]

PortRef = int | str
"""A port in a health check: a declared port name or a port number."""


class TcpCheck(Model):
    """Healthy when a TCP connection to the port succeeds."""

    port: PortRef
    """A declared port name, or a port number as declared in ``ports``."""


class HttpCheck(Model):
    """Healthy when ``GET path`` answers the expected status."""

    path: str = "/"
    port: PortRef
    status: Annotated[int, Field(ge=100, le=599)] = 200
    scheme: Literal["http", "https"] = "http"


class CommandCheck(Model):
    """Healthy when the command exits 0 (inside the container for the docker provider)."""

    exec: Command
    interval: Duration | None = None


class HealthCheck(Model):
    """How omnitron decides a service is healthy. Every declared probe must pass.

    Keys other than the fields below name probes registered by plugins
    (``"postgres": {}``); the planner checks they exist.
    """

    model_config = ConfigDict(extra="allow")

    tcp: TcpCheck | None = None
    http: HttpCheck | None = None
    command: CommandCheck | None = None
    retries: Annotated[int, Field(ge=0)] = 10
    """Consecutive failures tolerated after ``startupTimeout`` starts counting at the interval."""
    timeout: Duration = 10_000
    """Timeout of one probe attempt."""
    interval: Duration = 5_000
    """Time between attempts once the service was healthy; startup polls faster."""


class Capabilities(Model):
    add: list[str] = []
    drop: list[str] = []


class ResourceLimits(Model):
    memory: str | int | None = None
    """Memory limit, e.g. ``"512m"`` or bytes."""
    cpus: Annotated[float, Field(gt=0)] | None = None


class VolumeMount(Model):
    """A volume: a named volume (created on demand) or a bind mount of a host path."""

    source: Annotated[str, Field(min_length=1)]
    target: Annotated[str, Field(min_length=1, pattern=r"^/")]
    type: Literal["bind", "volume"] | None = None
    """Inferred when absent: a source starting with ``/``, ``.`` or ``~`` is a bind mount."""
    read_only: bool = False

    @model_validator(mode="after")
    def _infer_type(self) -> "VolumeMount":
        if self.type is None:
            self.type = "bind" if self.source.startswith(("/", ".", "~")) else "volume"
        return self


class DockerNetworkConfig(Model):
    name: str | None = None
    """Network to join; the project network when absent."""
    aliases: list[str] = []


class ContainerHealthCheck(Model):
    """Docker's own HEALTHCHECK for the container (omnitron's probes are separate)."""

    test: Command
    interval: Duration | None = None
    timeout: Duration | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    start_period: Duration | None = None

    def engine_api(self) -> dict[str, Any]:
        """The Docker Engine API's ``Healthcheck`` object (a container's, or a Swarm task's): a bare command as
        ``CMD``, durations from milliseconds to nanoseconds, what is not declared left to the engine's default."""
        test = list(self.test)
        if test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            test = ["CMD", *test]
        out: dict[str, Any] = {"Test": test}
        for key, value in (("Interval", self.interval), ("Timeout", self.timeout), ("StartPeriod", self.start_period)):
            if value is not None:
                out[key] = value * NS_PER_MS
        if self.retries is not None:
            out["Retries"] = self.retries
        return out


AbsolutePath = Annotated[str, Field(min_length=2, pattern=r"^/.*[^/]$")]


class SecretFiles(Model):
    """How the container takes its secrets as files, for a provider that mounts them (Docker secrets,
    Kubernetes Secrets) instead of putting them in env or on a command line.

    ``{"files": {"/run/secrets/password": "${secret:password}"}, "env": {"POSTGRES_PASSWORD_FILE": "/run/secrets/password"}}``:
    such a provider mounts each file read-only at its path, leaves out every container env variable whose value
    uses ``${secret:...}``, adds ``env``, and runs ``command`` instead of the docker ``command`` when given. A
    provider that keeps secrets in the container's env (a local container) ignores this section.
    """

    files: dict[AbsolutePath, str] = {}
    """Path inside the container -> its content (templates allowed: ``requirepass ${secret:password}``)."""
    env: dict[str, str] = {}
    """Container env added when the files are mounted (``POSTGRES_PASSWORD_FILE``); no secrets here."""
    command: Command | None = None
    """The command when the files are mounted (a server reading its config file), instead of ``command``."""


class DeployConfig(Model):
    """How a cluster engine runs the service (Compose's ``deploy``): a provider running one container ignores it."""

    replicas: Annotated[int, Field(ge=0)] = 1
    constraints: list[Annotated[str, Field(min_length=3)]] = []
    """Placement constraints (``node.role == manager``, ``node.labels.disk == ssd``)."""
    endpoint_mode: Literal["vip", "dnsrr"] | None = None
    """How other services reach it by name: a virtual IP or DNS round robin; the provider decides when absent."""
    publish_mode: Literal["ingress", "host"] | None = None
    """Published ports on the routing mesh or on the node running the task; the provider decides when absent."""
    update_order: Literal["stop-first", "start-first"] = "stop-first"
    """A changed spec replaces a task by stopping the old one first (a server owning a volume) or starting the new one first."""


class DockerOptions(Model):
    """Every docker option; all optional so it also serves as a variant or an override."""

    image: Annotated[str, Field(min_length=1)] | None = None
    command: Command | None = None
    entrypoint: Command | None = None
    env: dict[str, str] = {}
    """Env of the CONTAINER (templates allowed); the app's env is ``env`` on the service."""
    volumes: list[VolumeMount] = []
    network: DockerNetworkConfig | None = None
    user: str | None = None
    privileged: bool = False
    capabilities: Capabilities | None = None
    resources: ResourceLimits | None = None
    health_check: ContainerHealthCheck | None = None
    labels: dict[str, str] = {}
    ports: dict[str, Port] = {}
    """Container-side port per named port when it differs from the service's ``ports``."""
    secret_files: SecretFiles | None = None
    """Secrets as files, for providers that mount them instead of passing env (see :class:`SecretFiles`)."""
    deploy: DeployConfig | None = None
    """Replicas, placement and update order on a cluster engine (see :class:`DeployConfig`)."""
    stdin: str | None = None
    """Text written to the container's stdin at every start, then closed (templates allowed): configuration
    holding a secret (``redis-server -``) stays out of the command line, the env and the disk."""

    def uses_host_network(self) -> bool:
        """Whether the container shares the host's network namespace (``network.name`` is ``host``): it listens on
        the planned host ports itself, nothing is published, and it has no DNS alias."""
        return self.network is not None and self.network.name == HOST_NETWORK


class DockerServiceConfig(DockerOptions):
    """``IDockerServiceConfig``: how to run the service as a container."""

    variants: dict[str, DockerOptions] = {}
    """Per network mode (``regtest``, ``testnet``, ...) partial configs merged over this one."""


class ProcessConfig(Model):
    """How to run the service as a native process (the process provider).

    Presets fill ``recipe``; a custom service gives a ``command``.
    """

    recipe: str | None = None
    command: Command | None = None
    env: dict[str, str] = {}
    stdin: str | None = None
    """Text fed to the process's stdin at start (templates allowed), as ``docker.stdin``."""
    options: dict[str, Any] = {}


class BareMetalServer(Model):
    """One existing server: ``{"host": "10.0.1.10", "port": 5432, "weight": 2}``."""

    host: Annotated[str, Field(min_length=1)]
    port: Port | None = None
    """Its port for the service's first declared port (the declared number when absent)."""
    ports: dict[Name, Port] = {}
    """Its ports by declared port name, for a service with several."""
    weight: Annotated[int, Field(ge=0)] = 1
    """Heavier healthy servers are chosen first; ``0``: a standby, chosen only when no other is healthy."""


DISCOVERY_PATTERN = r"^[a-z][a-z0-9_-]*$"


class BareMetalServiceConfig(Model):
    """``IBareMetalServiceConfig``: connect to existing servers instead of provisioning.

    Keys other than the fields below hold a discovery backend's options, under
    its name (``"consul": {"service": "pg"}``); the provider running bare-metal
    services checks them with the backend's own model when planning, and
    ``discovery`` against the installed backends.
    """

    model_config = ConfigDict(extra="allow")

    discovery: Annotated[str, Field(pattern=DISCOVERY_PATTERN)] = "static"
    """How servers are found: ``static`` (the ``servers`` list), ``consul``, ``k8s``, or a backend a plugin adds."""
    servers: list[BareMetalServer] = []
    """The servers of ``static`` discovery."""
    options: dict[str, Any] = {}
    """The discovery backend's options in the older spelling (``"consul": {...}`` is the current one)."""

    @property
    def backend_options(self) -> dict[str, Any]:
        """The options of the chosen discovery backend: its own key, else the older ``options``."""
        own = (self.model_extra or {}).get(self.discovery)
        return dict(own) if isinstance(own, dict) else dict(self.options)


class ServiceRequirement(Model):
    """``IServiceRequirement``: the universal shape every service is expanded to."""

    description: str | None = None
    type: ServiceType | None = None
    ports: dict[Name, Port] = {}
    """Named ports the service exposes."""
    env: Annotated[dict[str, str], Field(json_schema_extra={"propertyNames": {"pattern": ENV_NAME}})] = {}
    """Env vars injected INTO THE APP (templates: ``${host}``, ``${port:NAME}``, ``${secret:NAME}``)."""
    health_check: HealthCheck | None = None
    depends_on: list[Name] = []
    secrets: dict[Name, SecretRefField] = {}
    """Logical template name -> key in the secret store."""
    docker: DockerServiceConfig | None = None
    bare_metal: BareMetalServiceConfig | None = None
    process: ProcessConfig | None = None
    version: str | None = None
    network_mode: str | None = None
    critical: bool = True
    """The gate blocks apps until a critical service is healthy."""
    startup_timeout: Duration = 120_000

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key or not (key[0].isalpha() or key[0] == "_") or not all(c.isalnum() or c == "_" for c in key):
                raise ValueError(f"invalid env variable name {key!r}")
        return value


class PresetService(Model):
    """Preset shorthand: ``{"preset": "postgres", "config": {...}}``.

    The other fields, when given, override what the preset expands to.
    """

    preset: Annotated[str, Field(min_length=1)]
    config: dict[str, Any] = {}
    description: str | None = None
    ports: dict[Name, Port] = {}
    env: dict[str, str] = {}
    depends_on: list[Name] | None = None
    secrets: dict[Name, SecretRefField] = {}
    docker: DockerOptions | None = None
    bare_metal: BareMetalServiceConfig | None = None
    health_check: HealthCheck | None = None
    critical: bool | None = None
    startup_timeout: Duration | None = None
    version: str | None = None


def _entry_kind(value: Any) -> str:
    # tags are capitalised so an error location never mistakes one for the ``preset`` key of the data
    if isinstance(value, dict):
        return "PresetService" if "preset" in value else "ServiceRequirement"
    return "PresetService" if isinstance(value, PresetService) else "ServiceRequirement"


ServiceEntry = Annotated[
    Annotated[PresetService, Tag("PresetService")]
    | Annotated[ServiceRequirement, Tag("ServiceRequirement")],
    Discriminator(_entry_kind),
]
"""An ecosystem or app service entry: a preset shorthand or a full requirement."""
