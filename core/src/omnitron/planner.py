"""The planner: declarations + stack + installed plugins -> :class:`~omnitron.plan.Plan`.

Pure and deterministic: no I/O, no clock, no randomness. Everything it needs
from the outside world (the environment's network mode, whether a Docker
engine answers, digests of mounted config files) comes in as arguments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, PlanError, TemplateError
from .loader import LoadedApp, LoadedProject, format_validation_error
from .model import (
    AppConfig,
    DatabaseRequest,
    DockerOptions,
    DockerServiceConfig,
    HealthCheck,
    PresetService,
    RedisRequest,
    S3Request,
    ServiceOverride,
    ServiceRequirement,
    StackConfig,
)
from .plan import AllocationRequest, AppPlan, EnvBinding, GeneratedSecret, Plan, PlannedService
from .presets import ExpandContext, Preset
from .templating import Renderer, TemplateContext

#: Which distribution provides the preset for an app shorthand, for error messages.
PRESET_PACKAGES: dict[str, str] = {
    "postgres": "omnitron-postgres",
    "redis": "omnitron-redis",
    "minio": "omnitron-minio",
    "openresty": "omnitron-openresty",
    "tor": "omnitron-tor",
    "mysql": "omnitron-mysql",
    "mariadb": "omnitron-mysql",
}
SHORTHAND_DEFAULT_PRESET = {"database": "postgres", "redis": "redis", "s3": "minio"}
DEFAULT_STARTUP_TIMEOUT_MS = 120_000
LOCAL_PROVIDERS = ("docker", "process")


@dataclass
class PlanOptions:
    """What the planner may know about the world, passed in so it stays pure."""

    stack: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    """``OMNITRON_NETWORK_MODE`` is read from here."""
    docker_available: bool | None = None
    """For ``provider = "auto"``: ``None`` means unknown (docker is assumed)."""
    provider: str | None = None
    """``--provider``: overrides the stack's choice."""
    file_digests: Mapping[str, str] = field(default_factory=dict)
    """Absolute host path -> digest, for bind-mounted config files (spec hash)."""


@dataclass
class _Binding:
    """What an app shorthand binds the app to, before planning."""

    service: str
    env: dict[str, str]
    allocation: AllocationRequest | None
    where: str
    credentials: dict[str, Any] = field(default_factory=dict)
    """Logical name -> :class:`~omnitron.presets.Credential` generated for this app alone."""


@dataclass
class _Decl:
    """A service declaration before planning."""

    name: str
    entry: PresetService | ServiceRequirement
    file: str
    path: str
    app: str | None = None
    auto: bool = False


class Planner:
    def __init__(self, project: LoadedProject, plugins: Any, options: PlanOptions) -> None:
        self.project = project
        self.eco = project.ecosystem
        self.presets: dict[str, Preset] = plugins.presets
        self.probes: dict[str, Any] = plugins.probes
        self.renderer = Renderer(plugins.template_functions)
        self.options = options
        self.eco_file = project.config_file.name
        self.stack_name = options.stack or self.eco.default_stack
        if self.stack_name not in self.eco.stacks:
            raise PlanError(f"unknown stack {self.stack_name!r}; declared: {', '.join(sorted(self.eco.stacks))}", file=self.eco_file, path="stacks")
        self.stack: StackConfig = self.eco.stacks[self.stack_name]
        self.decls: dict[str, _Decl] = {}
        self.bindings: dict[str, list[_Binding]] = {}
        self.app_services: dict[str, list[str]] = {a: [] for a in project.apps}

    # -- entry ----------------------------------------------------------

    def plan(self) -> Plan:
        for name, entry in self.eco.infrastructure.services.items():
            self.decls[name] = _Decl(name, entry, self.eco_file, f"infrastructure.services.{name}")
        for app in self.project.apps.values():
            self._app_infrastructure(app)
        for app in self.project.apps.values():
            self._app_shorthands(app)
        self._app_scoped_overrides()
        services = {name: self._plan_service(decl) for name, decl in self.decls.items()}
        services = {n: s for n, s in services.items() if s is not None}
        self._check_disabled_use(services)
        self._assign_ports(services)
        ordered = self._order(services)
        apps = {name: self._plan_app(app, services) for name, app in self.project.apps.items()}
        plan = Plan(
            project=self.project.name,
            stack=self.stack_name,
            stack_type=self.stack.type,
            network_mode=self._network_mode(None),
            provider_mode=self.options.provider or self.stack.provider,
            redis_db_offset=self.stack.redis_db_offset,
            services=ordered,
            apps=apps,
        )
        # templates are checked against the whole plan: a function may read other services and apps
        for app_plan in apps.values():
            self._check_app_env(plan, app_plan)
        for svc in ordered:
            self._check_service_templates(plan, svc)
            svc.spec_hash = spec_hash(svc, self.options.file_digests)
        return plan

    # -- declarations from apps -------------------------------------------

    def _app_file(self, app: LoadedApp) -> str:
        if app.config_file is None:
            return f"apps/{app.name}/config/default.json"
        try:
            return str(app.config_file.relative_to(self.project.root))
        except ValueError:
            return str(app.config_file)

    def _app_infrastructure(self, app: LoadedApp) -> None:
        file = self._app_file(app)
        for name, entry in app.config.infrastructure.items():
            path = f"omnitron.infrastructure.{name}"
            existing = self.decls.get(name)
            if existing is None:
                self.decls[name] = _Decl(name, entry, file, path, app=None)
                self.app_services[app.name].append(name)
            elif _same(existing.entry, entry):
                self.app_services[app.name].append(name)
            else:
                scoped = f"{app.name}/{name}"
                self.decls[scoped] = _Decl(scoped, entry, file, path, app=app.name)
                self.app_services[app.name].append(scoped)
        for name, used in app.config.services.items():
            if not used:
                continue
            if name not in self.eco.infrastructure.services and name not in self.decls:
                raise PlanError(f"no service named {name!r} in the ecosystem; declared: {', '.join(sorted(self.eco.infrastructure.services)) or '(none)'}", file=file, path=f"omnitron.services.{name}")
            if name not in self.app_services[app.name]:
                self.app_services[app.name].append(name)

    def _app_shorthands(self, app: LoadedApp) -> None:
        cfg: AppConfig = app.config
        file = self._app_file(app)
        for kind, value, model in (("database", cfg.database, DatabaseRequest), ("redis", cfg.redis, RedisRequest), ("s3", cfg.s3, S3Request)):
            if value is False:
                continue
            request = model() if value is True else value
            if isinstance(request, S3Request) and request.bucket is None:
                request = request.model_copy(update={"bucket": default_bucket(app.name)})
            dialect = getattr(request, "dialect", None)
            preset = self._shorthand_preset(kind, dialect, file)
            if request.dedicated:
                name = f"{app.name}/{preset.name}"
                config = preset.dedicated_config(app.name, request)
                self.decls[name] = _Decl(name, PresetService(preset=preset.name, config=config), file, f"omnitron.{kind}", app=app.name, auto=True)
            else:
                name = self._shared_service(kind, preset, request.service, file)
            binding = preset.bind_app(app.name, request, name)
            self.bindings.setdefault(app.name, []).append(_Binding(name, binding.env, binding.allocation, f"omnitron.{kind}", dict(binding.credentials)))
            if name not in self.app_services[app.name]:
                self.app_services[app.name].append(name)

    def _shorthand_preset(self, kind: str, dialect: str | None, file: str) -> Preset:
        for preset in self.presets.values():
            if preset.shorthand == kind and (kind != "database" or dialect in preset.dialects):
                return preset
        if kind == "database":
            package = PRESET_PACKAGES.get(dialect or "")
            installed = sorted({d for p in self.presets.values() if p.shorthand == kind for d in p.dialects})
            hint = f" (install {package})" if package else ""
            raise PlanError(
                f"no installed preset serves dialect {dialect!r}{hint}; installed dialects: {', '.join(installed) or '(none)'}",
                file=file, path="omnitron.database.dialect" if dialect != "postgres" else "omnitron.database",
            )
        package = PRESET_PACKAGES[SHORTHAND_DEFAULT_PRESET[kind]]
        raise PlanError(f"no installed preset serves the {kind!r} shorthand: install {package}", file=file, path=f"omnitron.{kind}")

    def _shared_service(self, kind: str, preset: Preset, wanted: str | None, file: str) -> str:
        candidates = [n for n, d in self.decls.items() if d.app is None and isinstance(d.entry, PresetService) and d.entry.preset == preset.name]
        if wanted is not None:
            if wanted not in candidates:
                raise PlanError(f"no {preset.name} service named {wanted!r}; {preset.name} services: {', '.join(candidates) or '(none)'}", file=file, path=f"omnitron.{kind}.service")
            return wanted
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise PlanError(f"several {preset.name} services ({', '.join(candidates)}): say which with \"service\"", file=file, path=f"omnitron.{kind}")
        name = preset.name if preset.name not in self.decls else f"{preset.name}-shared"
        self.decls[name] = _Decl(name, PresetService(preset=preset.name), file, f"omnitron.{kind}", auto=True)
        return name

    def _app_scoped_overrides(self) -> None:
        for key, override in self.stack.service_overrides.items():
            path = f"stacks.{self.stack_name}.serviceOverrides.{key}"
            if "/" not in key:
                if key not in self.decls:
                    raise PlanError(f"unknown override target: no service named {key!r}", file=self.eco_file, path=path)
                continue
            app, svc = key.split("/", 1)
            if app not in self.project.apps:
                raise PlanError(f"unknown override target: no app named {app!r}", file=self.eco_file, path=path)
            if key in self.decls:
                continue
            if svc not in self.decls:
                raise PlanError(f"unknown override target: no service named {svc!r}", file=self.eco_file, path=path)
            if svc not in self.app_services[app]:
                raise PlanError(f"unknown override target: app {app!r} does not use service {svc!r}", file=self.eco_file, path=path)
            base = self.decls[svc]
            self.decls[key] = _Decl(key, base.entry, base.file, base.path, app=app)
            self.app_services[app] = [key if s == svc else s for s in self.app_services[app]]
            for binding in self.bindings.get(app, []):
                if binding.service == svc:
                    binding.service = key

    # -- one service ------------------------------------------------------

    def _override_for(self, decl: _Decl) -> ServiceOverride | None:
        overrides = self.stack.service_overrides
        if decl.name in overrides:
            return overrides[decl.name]
        if decl.app and "/" in decl.name:
            base = decl.name.split("/", 1)[1]
            return overrides.get(base)
        return None

    def _expand(self, decl: _Decl) -> tuple[ServiceRequirement, Preset | None, dict[str, Any]]:
        entry = decl.entry
        if isinstance(entry, ServiceRequirement):
            return entry.model_copy(deep=True), None, {}
        preset = self.presets.get(entry.preset)
        if preset is None:
            package = PRESET_PACKAGES.get(entry.preset)
            hint = f": install {package}" if package else f"; installed presets: {', '.join(sorted(self.presets)) or '(none)'}"
            raise PlanError(f"unknown preset {entry.preset!r}{hint}", file=decl.file, path=f"{decl.path}.preset")
        try:
            config = preset.parse_config(entry.config)
        except ValidationError as exc:
            raise format_validation_error(exc, file=decl.file, prefix=f"{decl.path}.config", data=entry.config) from None
        ctx = ExpandContext(project=self.project.name, stack=self.stack_name, service=decl.name, app=decl.app)
        req = preset.expand(config, ctx)
        req = _apply_preset_entry(req, entry)
        dumped = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
        return req, preset, dumped

    def _plan_service(self, decl: _Decl) -> PlannedService | None:
        req, preset, config = self._expand(decl)
        override = self._override_for(decl)
        if override is not None and override.disabled:
            return None
        secrets = {k: v.secret for k, v in req.secrets.items()}
        generated: list[GeneratedSecret] = []
        if preset is not None:
            for logical, cred in preset.credentials.items():
                if logical not in secrets:
                    key = f"{self.project.name}/{self.stack_name}/{decl.name}/{logical}"
                    secrets[logical] = key
                    generated.append(GeneratedSecret(key=key, length=cred.length, alphabet=cred.alphabet))
        mode = self._network_mode(req.network_mode)
        docker = self._docker_for(decl, req.docker, mode, override)
        provider, host = self._provider_for(decl, req, preset, docker, override)
        critical = req.critical if override is None or override.critical is None else override.critical
        timeout = req.startup_timeout if override is None or override.startup_timeout is None else override.startup_timeout
        ports = dict(req.ports)
        bare_metal = override.bare_metal if override is not None and override.bare_metal else req.bare_metal
        if provider == "external":
            assert override is not None and override.external is not None
            ports.update(override.external.ports)
        self._check_health(decl, req.health_check, ports)
        process = req.process
        if process is None and preset is not None and preset.process_recipe() is not None:
            from .model import ProcessConfig

            # the recipe honours the container's contract: it gets the same env and command, rendered
            process = ProcessConfig(
                recipe=preset.name,
                env=dict(docker.env) if docker is not None else {},
                command=list(docker.command) if docker is not None and docker.command else None,
            )
        return PlannedService(
            name=decl.name,
            app=decl.app,
            preset=preset.name if preset else None,
            type=req.type or (preset.service_type if preset else None),
            description=req.description,
            provider=provider,
            host=host,
            bind_address=self.stack.bind_address,
            ports=ports,
            target_ports=dict(req.ports),
            docker=docker if provider == "docker" else None,
            process=process if provider == "process" else None,
            bare_metal=bare_metal if provider == "baremetal" else None,
            env=dict(req.env),
            secrets=secrets,
            generated=generated,
            health_check=req.health_check,
            depends_on=list(req.depends_on),
            critical=critical,
            startup_timeout_ms=timeout,
            network_mode=mode,
            version=req.version,
            config=config,
            auto=decl.auto,
        )

    def _network_mode(self, service_mode: str | None) -> str | None:
        return self.options.environ.get("OMNITRON_NETWORK_MODE") or self.stack.network_mode or service_mode

    def _docker_for(self, decl: _Decl, docker: DockerServiceConfig | None, mode: str | None, override: ServiceOverride | None) -> DockerOptions | None:
        if docker is None:
            if override is not None and override.docker is not None:
                return override.docker
            return None
        base = docker.model_dump(exclude={"variants"}, exclude_unset=True, by_alias=False)
        if docker.variants:
            if mode is not None and mode in docker.variants:
                base = _merge(base, docker.variants[mode].model_dump(exclude_unset=True, by_alias=False))
            elif mode is not None:
                raise PlanError(f"no docker variant for network mode {mode!r}; variants: {', '.join(sorted(docker.variants))}", file=decl.file, path=f"{decl.path}.docker.variants")
            elif not base.get("image"):
                raise PlanError(f"a network mode is needed to pick a docker variant ({', '.join(sorted(docker.variants))}): set networkMode on the stack or OMNITRON_NETWORK_MODE", file=decl.file, path=f"{decl.path}.docker.variants")
        if override is not None and override.docker is not None:
            base = _merge(base, override.docker.model_dump(exclude_unset=True, by_alias=False))
        opts = DockerOptions.model_validate(base)
        for vol in opts.volumes:
            if vol.type == "bind" and not vol.source.startswith("/"):
                source = vol.source
                if source.startswith("~"):
                    raise PlanError("bind mount sources must be absolute or relative to the project", file=decl.file, path=f"{decl.path}.docker.volumes")
                vol.source = _join(str(self.project.root), source)
        if not opts.image:
            raise PlanError("docker.image is required", file=decl.file, path=f"{decl.path}.docker.image")
        return opts

    def _provider_for(self, decl: _Decl, req: ServiceRequirement, preset: Preset | None, docker: DockerOptions | None, override: ServiceOverride | None) -> tuple[str, str]:
        if override is not None and override.external is not None:
            return "external", override.external.host
        bare_metal = override.bare_metal if override is not None and override.bare_metal else req.bare_metal
        if bare_metal is not None and (self.stack.type != "local" or (override is not None and override.bare_metal) or (docker is None and req.process is None)):
            server = max(bare_metal.servers, key=lambda s: s.weight) if bare_metal.servers else None
            return "baremetal", server.host if server else f"<{bare_metal.discovery}>"
        can_process = req.process is not None or (preset is not None and preset.process_recipe() is not None)
        can_docker = docker is not None
        choice = self.options.provider or self.stack.provider
        where = f"{decl.path}"
        if choice == "docker":
            if not can_docker:
                raise PlanError("has no docker config, so the docker provider cannot run it", file=decl.file, path=where)
            return "docker", "127.0.0.1"
        if choice == "process":
            if not can_process:
                raise PlanError("cannot run as a native process (no process recipe or command); use the docker provider", file=decl.file, path=where)
            return "process", "127.0.0.1"
        if can_docker and self.options.docker_available is not False:
            return "docker", "127.0.0.1"
        if can_process:
            return "process", "127.0.0.1"
        if can_docker:
            return "docker", "127.0.0.1"
        raise PlanError("declares no way to run it: give docker, process or bareMetal", file=decl.file, path=where)

    def _check_health(self, decl: _Decl, hc: HealthCheck | None, ports: dict[str, int]) -> None:
        if hc is None:
            return
        for probe_name in ("tcp", "http"):
            probe = getattr(hc, probe_name)
            if probe is not None and isinstance(probe.port, str) and not probe.port.isdigit() and probe.port not in ports:
                raise PlanError(f"unknown port {probe.port!r}; declared: {', '.join(sorted(ports)) or '(none)'}", file=decl.file, path=f"{decl.path}.healthCheck.{probe_name}.port")
        for extra_name, extra in (hc.model_extra or {}).items():
            probe = self.probes.get(extra_name)
            if probe is None:
                raise PlanError(f"unknown health probe {extra_name!r}; known: {', '.join(sorted(self.probes))}", file=decl.file, path=f"{decl.path}.healthCheck.{extra_name}")
            try:
                probe.spec_model.model_validate(extra)
            except ValidationError as exc:
                raise format_validation_error(exc, file=decl.file, prefix=f"{decl.path}.healthCheck.{extra_name}", data=extra) from None

    # -- cross-service checks --------------------------------------------

    def _check_disabled_use(self, services: dict[str, PlannedService]) -> None:
        for svc in services.values():
            for dep in svc.depends_on:
                target = self._resolve_dep(svc, dep, services)
                if target is None:
                    decl = self.decls[svc.name]
                    if dep in self.decls or (svc.app and f"{svc.app}/{dep}" in self.decls):
                        raise PlanError(f"depends on {dep!r}, which stack {self.stack_name!r} disables", file=decl.file, path=f"{decl.path}.dependsOn")
                    raise PlanError(f"depends on unknown service {dep!r}", file=decl.file, path=f"{decl.path}.dependsOn")
                svc.depends_on = [target if d == dep else d for d in svc.depends_on]

    @staticmethod
    def _resolve_dep(svc: PlannedService, dep: str, services: dict[str, PlannedService]) -> str | None:
        if svc.app and f"{svc.app}/{dep}" in services:
            return f"{svc.app}/{dep}"
        return dep if dep in services else None

    def _offset(self, name: str) -> int:
        offsets = self.stack.port_offsets
        if isinstance(offsets, int):
            return offsets
        base = name.split("/", 1)[-1]
        return offsets.get(name, offsets.get(base, offsets.get("*", 0)))

    def _assign_ports(self, services: dict[str, PlannedService]) -> None:
        if isinstance(self.stack.port_offsets, dict):
            for key in self.stack.port_offsets:
                if key != "*" and key not in services and key not in self.decls:
                    raise PlanError(f"unknown service {key!r}", file=self.eco_file, path=f"stacks.{self.stack_name}.portOffsets.{key}")
        taken: dict[int, str] = {}
        local = [s for s in services.values() if s.provider in LOCAL_PROVIDERS]
        # declared services keep their ports; app-scoped and automatic ones move on collision
        local.sort(key=lambda s: (s.app is not None or s.auto, s.name))
        for svc in local:
            offset = self._offset(svc.name)
            for port_name, port in sorted(svc.target_ports.items()):
                host_port = port + offset
                movable = svc.app is not None or svc.auto
                while host_port in taken and movable and host_port < 65535:
                    host_port += 1
                decl = self.decls[svc.name]
                if not 1 <= host_port <= 65535:
                    raise PlanError(f"port {port} + offset {offset} = {host_port} is out of range 1-65535", file=self.eco_file, path=f"stacks.{self.stack_name}.portOffsets")
                if host_port in taken:
                    raise PlanError(f"host port {host_port} is used by both {taken[host_port]!r} and {svc.name!r}: change a port or use portOffsets", file=decl.file, path=f"{decl.path}.ports.{port_name}")
                taken[host_port] = svc.name
                svc.ports[port_name] = host_port

    def _order(self, services: dict[str, PlannedService]) -> list[PlannedService]:
        ordered: list[PlannedService] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = trail[trail.index(name) :] + [name]
                decl = self.decls[name]
                raise PlanError(f"dependency cycle: {' -> '.join(cycle)}", file=decl.file, path=f"{decl.path}.dependsOn")
            state[name] = 1
            for dep in sorted(services[name].depends_on):
                visit(dep, trail + [name])
            state[name] = 2
            ordered.append(services[name])

        for name in sorted(services):
            visit(name, [])
        return ordered

    # -- apps ---------------------------------------------------------------

    def _plan_app(self, app: LoadedApp, services: dict[str, PlannedService]) -> AppPlan:
        file = self._app_file(app)
        env: dict[str, EnvBinding] = {}
        env_source: dict[str, str] = {}
        allocations: list[AllocationRequest] = []
        generated: list[GeneratedSecret] = []
        used = [s for s in self.app_services[app.name] if s in services]
        bound = {b.service for b in self.bindings.get(app.name, [])}

        def add(var: str, template: str, service: str, where: str, secrets: dict[str, str] | None = None) -> None:
            if var in env and env[var].template != template:
                raise PlanError(f"env {var} is injected by both {env_source[var]!r} and {service!r}", file=file, path=where)
            env[var] = EnvBinding(template=template, service=service, secrets=secrets or {})
            env_source[var] = service

        for binding in self.bindings.get(app.name, []):
            name = binding.service
            if name not in services:
                continue
            own = self._app_credentials(app.name, name, binding.credentials, generated)
            for var, template in binding.env.items():
                add(var, template, name, binding.where, own)
            if binding.allocation is not None:
                allocations.append(binding.allocation.model_copy(update={"service": name, "secrets": own}))
        for name in used:
            if name in bound:
                continue
            for var, template in services[name].env.items():
                add(var, template, name, f"omnitron.services.{name}")
        for var, template in app.config.env.items():
            env[var] = EnvBinding(template=template)  # the app's own env wins over injected values
        ref = next(r for r in self.eco.apps if r.name == app.name)
        return AppPlan(
            name=app.name,
            path=str(app.path),
            services=used,
            env=dict(sorted(env.items())),
            allocations=allocations,
            generated=generated,
            migrate=list(app.config.migrate) if app.config.migrate else None,
            command=ref.command,
            ports={**app.config.ports, **ref.ports},
        )

    def _app_credentials(self, app: str, service: str, credentials: dict[str, Any], generated: list[GeneratedSecret]) -> dict[str, str]:
        """Store keys of the credentials generated for ``app`` alone on ``service`` (logical name -> key)."""
        keys: dict[str, str] = {}
        for logical, cred in sorted(credentials.items()):
            key = f"{self.project.name}/{self.stack_name}/{service}/apps/{app}/{logical}"
            keys[logical] = key
            generated.append(GeneratedSecret(key=key, length=cred.length, alphabet=cred.alphabet))
        return keys

    def _check_app_env(self, plan: Plan, app: AppPlan) -> None:
        """Render ``app``'s env (masked); services a value depends on become services the app uses."""
        for var, binding in app.env.items():
            svc = plan.service(binding.service) if binding.service else None
            alloc_values = next((a.values for a in app.allocations if a.service == binding.service), {})
            ctx = context_for(svc, app=app.name, alloc=alloc_values, secrets=binding.secrets, plan=plan)
            try:
                self.renderer.render(binding.template, ctx, variable=var, mask_secrets=True)
            except TemplateError as exc:
                if binding.service is not None:
                    raise
                raise TemplateError(exc.message, file=self._app_file(self.project.apps[app.name]), path=f"omnitron.env.{var}") from None
            app.services.extend(sorted(n for n in ctx.needs if n not in app.services and n != binding.service))

    def _check_service_templates(self, plan: Plan, svc: PlannedService) -> None:
        decl = self.decls[svc.name]
        rendered: dict[str, str] = {}
        for var, template in runtime_templates(svc).items():
            try:
                rendered[var] = self.renderer.render(template, context_for(svc, app=None, alloc={}, plan=plan), variable=var, mask_secrets=True)
            except TemplateError as exc:
                raise TemplateError(exc.message, file=decl.file, path=decl.path) from None
        blob = json.dumps(rendered, sort_keys=True, separators=(",", ":"))
        svc.rendered_digest = hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_bucket(app: str) -> str:
    """The bucket ``"s3": true`` asks for: the app's name made a valid S3 bucket name."""
    name = "".join(c if c.isalnum() or c in ".-" else "-" for c in app.lower()).strip(".-")
    return (name or "app").ljust(3, "0")[:63]


def context_for(
    svc: PlannedService | None,
    *,
    app: str | None,
    alloc: Mapping[str, str],
    secret: Any = None,
    secrets: Mapping[str, str] | None = None,
    plan: Plan | None = None,
    facts: Mapping[str, Mapping[str, str]] | None = None,
) -> TemplateContext:
    """The template context of ``svc`` as seen from ``app``.

    Without a service (an app's own env), ``${host}`` and ``${port:NAME}`` are
    the app's: 127.0.0.1 and its declared ports.

    :param secrets: logical name -> store key of credentials generated for ``app``
        alone (an app's own database password); they win over the service's.
    :param facts: service -> facts recorded in the state store (none at plan time).
    """
    own = plan.apps[app].ports if svc is None and plan is not None and app in plan.apps else None
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
    """Templates of the service's own runtime (container env and command), by a display name."""
    out: dict[str, str] = {}
    if svc.docker is not None:
        for k, v in svc.docker.env.items():
            out[k] = v
        for i, arg in enumerate(svc.docker.command or []):
            out[f"command[{i}]"] = arg
    if svc.process is not None:
        for k, v in svc.process.env.items():
            out[k] = v
        for i, arg in enumerate(svc.process.command or []):
            out[f"command[{i}]"] = arg
    return out


def spec_hash(svc: PlannedService, file_digests: Mapping[str, str]) -> str:
    """A stable digest of everything that, changed, needs the service recreated."""
    data = {
        "provider": svc.provider,
        "docker": svc.docker.model_dump(mode="json") if svc.docker else None,
        "process": svc.process.model_dump(mode="json") if svc.process else None,
        "bare_metal": svc.bare_metal.model_dump(mode="json") if svc.bare_metal else None,
        "ports": svc.ports,
        "target_ports": svc.target_ports,
        "bind": svc.bind_address,
        "config": svc.config,
        "secrets": svc.secrets,
        "version": svc.version,
        "network_mode": svc.network_mode,
        "rendered": svc.rendered_digest,
    }
    mounts = {}
    if svc.docker is not None:
        for vol in svc.docker.volumes:
            if vol.type == "bind":
                mounts[vol.source] = file_digests.get(vol.source, "")
    data["mounts"] = mounts
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _join(root: str, rel: str) -> str:
    """``root/rel`` normalised without touching the filesystem."""
    import posixpath

    return posixpath.normpath(posixpath.join(root, rel))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a.model_dump() == b.model_dump()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key in {"env", "labels"}:
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _apply_preset_entry(req: ServiceRequirement, entry: PresetService) -> ServiceRequirement:
    update: dict[str, Any] = {}
    if entry.description is not None:
        update["description"] = entry.description
    if entry.ports:
        update["ports"] = {**req.ports, **entry.ports}
    if entry.env:
        update["env"] = {**req.env, **entry.env}
    if entry.depends_on is not None:
        update["depends_on"] = list(entry.depends_on)
    if entry.secrets:
        update["secrets"] = {**req.secrets, **entry.secrets}
    if entry.docker is not None:
        base = req.docker.model_dump(exclude_unset=True, by_alias=False) if req.docker else {}
        update["docker"] = DockerServiceConfig.model_validate(_merge(base, entry.docker.model_dump(exclude_unset=True, by_alias=False)))
    if entry.bare_metal is not None:
        update["bare_metal"] = entry.bare_metal
    if entry.health_check is not None:
        update["health_check"] = entry.health_check
    if entry.critical is not None:
        update["critical"] = entry.critical
    if entry.startup_timeout is not None:
        update["startup_timeout"] = entry.startup_timeout
    if entry.version is not None:
        update["version"] = entry.version
    return req.model_copy(update=update)


def make_plan(project: LoadedProject, plugins: Any, options: PlanOptions | None = None) -> Plan:
    """Plan ``project`` for a stack. Pure: same inputs, same plan."""
    try:
        return Planner(project, plugins, options or PlanOptions()).plan()
    except ConfigError:
        raise
