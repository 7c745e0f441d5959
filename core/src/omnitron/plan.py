"""The plan: what the planner decides, as plain data (dumped by ``infra plan --json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .model import (
    BareMetalServiceConfig,
    DockerOptions,
    HealthCheck,
    ProcessConfig,
)


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


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


class PlannedService(PlanModel):
    """One service as it will be provisioned in this stack."""

    name: str
    """``svc`` for ecosystem services, ``app/svc`` for an app's own or app-scoped ones."""
    app: str | None = None
    preset: str | None = None
    type: str | None = None
    description: str | None = None
    provider: str
    """``docker``, ``process``, ``baremetal`` or ``external``."""
    host: str
    """Host apps connect to."""
    bind_address: str = "127.0.0.1"
    ports: dict[str, int] = {}
    """Host-side ports apps connect to (offsets applied)."""
    target_ports: dict[str, int] = {}
    """Ports inside the container / the process listens on, as declared."""
    docker: DockerOptions | None = None
    process: ProcessConfig | None = None
    bare_metal: BareMetalServiceConfig | None = None
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
    rendered_digest: str = ""
    """Digest of its runtime templates as rendered at plan time (secrets masked): part of the spec hash, so a
    value resolved through the plan (another service's port, an app's declared port) recreates it when it changes."""
    spec_hash: str = ""


class EnvBinding(PlanModel):
    template: str
    service: str | None = None
    """Service the template is rendered against (its host, ports, secrets)."""
    secrets: dict[str, str] = {}
    """Logical name -> store key of credentials generated for the app alone; they win over the service's."""


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
