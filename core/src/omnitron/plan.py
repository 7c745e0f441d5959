"""The plan: what the planner decides, as plain data (dumped by ``infra plan --json``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .model import (
    BareMetalServiceConfig,
    DockerOptions,
    HealthCheck,
    ProcessConfig,
)
from .templating import PENDING, TemplateContext


@dataclass(frozen=True)
class RunPart:
    """Marks a field of :class:`PlannedService` as a part a provider may run from (``Provider.runs_from``)."""


class PlanModel(BaseModel):
    """Fields are snake_case in Python; ``model_dump(by_alias=True)`` spells them in camelCase, as ``infra plan --json`` prints them."""

    model_config = ConfigDict(extra="forbid", frozen=False, alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


class AllocationRequest(PlanModel):
    """A per-app resource on a shared service: a database, a Redis DB index, a bucket."""

    app: str
    service: str
    kind: str
    """``database``, ``redis_db``, ``bucket``: chosen by the preset."""
    name: str
    """Stable identity of the resource (database name, bucket name, the app for a DB index)."""
    values: dict[str, str] = {}
    """``${alloc:KEY}`` values known at plan time (the database name)."""
    params: dict[str, Any] = {}
    """Anything else the preset needs (quota, extensions, public)."""
    secrets: dict[str, str] = {}
    """Logical name -> secret store key of the credentials generated for this app alone
    (:attr:`~omnitron.presets.AppBinding.credentials`); read with
    :meth:`~omnitron.runtime.ServiceHandle.request_secret`."""


class GeneratedSecret(PlanModel):
    key: str
    """Key in the secret store."""
    length: int
    alphabet: str


class EnvBinding(PlanModel):
    template: str
    service: str | None = None
    """Service the template is rendered against (its host, ports, secrets)."""
    secrets: dict[str, str] = {}
    """Logical name -> store key of credentials generated for the app alone; they win over the service's."""


def service_owner(service: str) -> str:
    """Who owns what is allocated for a service itself (its own Redis DB index): ``service:<name>``, never an app's name."""
    return f"service:{service}"


class PlannedService(PlanModel):
    """One service as it will be provisioned in this stack."""

    name: str
    """``svc`` for ecosystem services, ``app/svc`` for an app's own or app-scoped ones."""
    app: str | None = None
    preset: str | None = None
    type: str | None = None
    description: str | None = None
    provider: str
    """The installed provider chosen for it (``external`` for a stack's external override)."""
    host: str
    """Host apps connect to."""
    address_note: str = ""
    """How the host was chosen, when its provider chooses again at run time (a static list's heaviest server,
    re-resolved by health; a discovery backend)."""
    origin: str = ""
    """Where the run part its provider runs from is declared (``FILE: dotted.path``), for errors found only at run time."""
    bind_address: str = "127.0.0.1"
    ports: dict[str, int] = {}
    """Host-side ports apps connect to (offsets applied)."""
    target_ports: dict[str, int] = {}
    """Ports inside the container / the process listens on, as declared."""
    docker: Annotated[DockerOptions | None, RunPart()] = None
    process: Annotated[ProcessConfig | None, RunPart()] = None
    bare_metal: Annotated[BareMetalServiceConfig | None, RunPart()] = None
    """Of these run parts only the chosen provider's is kept."""
    env: dict[str, str] = {}
    """Env templates this service injects into every app using it."""
    secrets: dict[str, str] = {}
    """Logical template name -> secret store key."""
    generated: list[GeneratedSecret] = []
    health_check: HealthCheck | None = None
    depends_on: list[str] = []
    critical: bool = True
    startup_timeout_ms: int = 120_000
    network_mode: str | None = None
    version: str | None = None
    config: dict[str, Any] = {}
    """The preset's validated config."""
    auto: bool = False
    """Added by the planner because an app needed it and none was declared."""
    env_from: dict[str, EnvBinding] = {}
    """Env of the service's own runtime rendered against the services it uses through its preset's shorthands
    (:meth:`~omnitron.presets.Preset.shorthands`): a gateway's ``REDIS_URL`` with its own DB index."""
    allocations: list[AllocationRequest] = []
    """What is allocated for the service itself on the services it uses (owner :func:`service_owner`), made when
    they come up, before it starts."""
    files_dir: str = ""
    """The service's files directory on the host, for what its preset generates for it
    (:attr:`~omnitron.presets.ExpandContext.files_dir`; empty without a preset): output, not input, so a mount
    of it is digested into neither hash (the preset applies what it writes there itself); ``down --volumes``
    deletes it."""
    reload_paths: list[str] = []
    """Host paths of config its preset applies to the running service by reloading it (its watched paths, its
    files directory aside): digested into :attr:`config_digest`, not into the spec hash, so a change there
    reloads the service instead of recreating it."""
    config_digest: str = ""
    """Digest of the files under :attr:`reload_paths`; the engine records the one a service last applied."""
    rendered_digest: str = ""
    """Digest of its runtime templates as rendered at plan time (secrets masked): part of the spec hash, so a
    value resolved through the plan (another service's port, an app's declared port) recreates it when it changes."""
    spec_hash: str = ""

    def container_ports(self) -> dict[str, int]:
        """Named port -> port inside its container: ``docker.ports`` wins over the declared port; on the host
        network, the planned (host) ports, which the container then listens on itself.

        :raises ProvisionError: a port with no container port known.
        """
        from .errors import ProvisionError

        if self.docker is not None and self.docker.uses_host_network():
            return dict(self.ports)
        out: dict[str, int] = {}
        for name in self.ports:
            inside = (self.docker.ports.get(name) if self.docker is not None else None) or self.target_ports.get(name)
            if inside is None:
                raise ProvisionError(f"service {self.name}: no container port known for port {name!r}")
            out[name] = inside
        return out

    @property
    def runtime_config(self) -> DockerOptions | ProcessConfig | None:
        """The run section of its provider that carries the service's own env and command (container or process)."""
        return self.docker if self.docker is not None else self.process


RUN_PARTS: tuple[str, ...] = tuple(name for name, f in PlannedService.model_fields.items() if any(isinstance(m, RunPart) for m in f.metadata))
"""Names of the parts of a service providers run from, as fields of the requirement and the planned service."""


class AppPlan(PlanModel):
    name: str
    path: str | None = None
    services: list[str] = []
    """Services the app uses directly (the gate also waits on their dependencies)."""
    env: dict[str, EnvBinding] = {}
    allocations: list[AllocationRequest] = []
    generated: list[GeneratedSecret] = []
    """Credentials generated for this app alone (its own database user's password, its access key)."""
    migrate: list[str] | None = None
    command: list[str] | None = None
    ports: dict[str, int] = {}
    """Ports the app listens on (declared), on 127.0.0.1."""
    allocated_port: str | None = None
    """Name of the port omnitron allocates for the app when it declares none (``http``): stable, recorded in the
    state store on its first ``up`` or ``run``, injected as ``PORT``."""

    def primary_port(self) -> str | None:
        """The port ``PORT`` names: the allocated one, else ``http``, else the only declared one."""
        if self.allocated_port is not None:
            return self.allocated_port
        if "http" in self.ports:
            return "http"
        return next(iter(self.ports)) if len(self.ports) == 1 else None

    def listen_ports(self, allocated: Mapping[str, int] | None = None) -> dict[str, int | str]:
        """Port name -> port the app listens on: declared ones, and the allocated one (``<pending>`` until recorded)."""
        out: dict[str, int | str] = dict(self.ports)
        if self.allocated_port is not None:
            out[self.allocated_port] = (allocated or {}).get(self.allocated_port, PENDING)
        return out


class Plan(PlanModel):
    project: str
    stack: str
    stack_type: str
    network_mode: str | None = None
    provider_mode: str = "auto"
    redis_db_offset: int = 0
    services: list[PlannedService] = []
    """In dependency order: a service comes after everything it depends on."""
    apps: dict[str, AppPlan] = {}

    def service(self, name: str) -> PlannedService:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    def services_for(self, app: str) -> list[PlannedService]:
        """The services ``app`` needs, with their dependencies, in dependency order."""
        wanted: set[str] = set()
        stack = list(self.apps[app].services)
        while stack:
            name = stack.pop()
            if name in wanted:
                continue
            wanted.add(name)
            stack.extend(self.service(name).depends_on)
        return [s for s in self.services if s.name in wanted]

    def allocation_requests(self) -> list[AllocationRequest]:
        """Every app's allocation requests."""
        return [a for app in self.apps.values() for a in app.allocations]


def context_for(
    svc: PlannedService | None,
    *,
    app: str | None,
    alloc: Mapping[str, str],
    secret: Callable[[str], str] | None = None,
    secrets: Mapping[str, str] | None = None,
    plan: Plan | None = None,
    facts: Mapping[str, Mapping[str, str]] | None = None,
    app_ports: Mapping[str, int] | None = None,
) -> TemplateContext:
    """The template context of ``svc`` as seen from ``app`` (``secret``: store key -> value; masked when ``None``).

    Without a service (an app's own env), ``${host}`` and ``${port:NAME}`` are
    the app's: 127.0.0.1 and the ports it listens on (declared, or allocated:
    ``app_ports``, the recorded ones; ``<pending>`` before they are).

    :param secrets: logical name -> store key of credentials generated for ``app``
        alone (an app's own database password); they win over the service's.
    :param facts: service -> facts recorded in the state store (none at plan time).
    """
    own = plan.apps[app].listen_ports(app_ports) if svc is None and plan is not None and app in plan.apps else None
    ctx = TemplateContext(
        app=app,
        service=svc.name if svc else None,
        host=svc.host if svc else "127.0.0.1" if own is not None else "localhost",
        ports=dict(svc.ports) if svc else dict(own or {}),
        secrets={**(svc.secrets if svc else {}), **(secrets or {})},
        alloc=dict(alloc),
        plan=plan,
        facts=dict(facts or {}),
    )
    if secret is not None:
        ctx.secret = secret
    return ctx


def runtime_templates(svc: PlannedService) -> dict[str, str]:
    """Templates of the service's own runtime (container/process env and command), by a display name."""
    source = svc.runtime_config
    if source is None:
        return {}
    out = dict(source.env)
    for i, arg in enumerate(source.command or []):
        out[f"command[{i}]"] = arg
    if source.stdin is not None:
        out["stdin"] = source.stdin
    files = svc.docker.secret_files if svc.docker is not None else None
    if files is not None:
        out.update({f"{SECRET_FILES}.files.{path}": content for path, content in files.files.items()})
        out.update({f"{SECRET_FILES}.env.{key}": value for key, value in files.env.items()})
        out.update({f"{SECRET_FILES}.command[{i}]": arg for i, arg in enumerate(files.command or [])})
    return out


SECRET_FILES = "secretFiles"
"""Prefix of the secret files' templates in :func:`runtime_templates` (``secretFiles.files./run/secrets/x``)."""
