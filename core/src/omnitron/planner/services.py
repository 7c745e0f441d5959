"""Stage 2: expand each declaration into a :class:`~omnitron.plan.PlannedService`.

A preset expands to a full requirement (its config validated), the entry's
own fields win over the preset's, then the stack's override applies: the
docker variant of the network mode, docker options merged, ``bareMetal``,
``external``, ``critical``, ``startupTimeout``, ``disabled``. The provider is
chosen from what the installed providers say of themselves (:mod:`.choose`).
"""

from __future__ import annotations

import posixpath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from .. import layout
from ..errors import ConfigError, PlanError
from ..install_hints import preset_hint
from ..loader import format_validation_error
from ..model import DockerOptions, DockerServiceConfig, PresetService, ProcessConfig, ServiceOverride, ServiceRequirement
from ..plan import GeneratedSecret, PlannedService
from ..presets import ExpandContext, Preset
from .checks import check_command_probe, check_health
from .choose import choose_provider
from .inputs import Decl, PlanContext


def plan_services(ctx: PlanContext) -> dict[str, PlannedService]:
    """Every declared service this stack does not disable, by name."""
    planned = {name: plan_service(ctx, decl) for name, decl in ctx.decls.items()}
    return {n: s for n, s in planned.items() if s is not None}


def plan_service(ctx: PlanContext, decl: Decl) -> PlannedService | None:
    req, preset, config = _expand(ctx, decl)
    key = _override_key(ctx, decl)
    override = ctx.stack.service_overrides[key] if key is not None else None
    if override is not None and override.disabled:
        return None
    secrets, generated = _secrets(ctx, decl, req, preset)
    mode = ctx.network_mode(req.network_mode)
    effective = _effective(ctx, decl, req, preset, mode, override)
    check_parts(ctx, decl, effective, key)
    chosen = choose_provider(ctx, decl, effective, preset, override)
    check_health(ctx, decl, req.health_check, chosen.ports)
    check_command_probe(decl, req.health_check, chosen.name, chosen.manages_lifecycle)
    runs = {chosen.runs_from: getattr(effective, chosen.runs_from)} if chosen.runs_from else {}
    svc = PlannedService(
        name=decl.name,
        app=decl.app,
        preset=preset.name if preset else None,
        type=req.type or (preset.service_type if preset else None),
        description=req.description,
        provider=chosen.name,
        host=chosen.host,
        address_note=chosen.note,
        origin=_origin(ctx, decl, chosen.runs_from, key),
        bind_address=ctx.stack.bind_address,
        ports=chosen.ports,
        target_ports=dict(req.ports),
        env=dict(req.env),
        secrets=secrets,
        # an existing server a provider connects to has credentials of its own: the user stores them, none is generated
        generated=[] if chosen.runs_from is not None and not chosen.manages_lifecycle else generated,
        health_check=req.health_check,
        depends_on=list(req.depends_on),
        critical=req.critical if override is None or override.critical is None else override.critical,
        startup_timeout_ms=req.startup_timeout if override is None or override.startup_timeout is None else override.startup_timeout,
        network_mode=mode,
        version=req.version,
        config=config,
        auto=decl.auto,
        **runs,
    )
    if preset is not None:
        svc.files_dir = str(layout.files_dir(ctx.project.root, ctx.stack_name, decl.name))
        svc.reload_paths = reload_paths(ctx, preset, svc)
    return svc


def reload_paths(ctx: PlanContext, preset: Preset, svc: PlannedService) -> list[str]:
    """The preset's watched paths, absolute, its files directory (output, not input) aside."""
    out: set[str] = set()
    for path in preset.watched_paths(svc):
        absolute = posixpath.normpath(posixpath.join(str(ctx.project.root), str(path)))
        if not within(absolute, svc.files_dir):
            out.add(absolute)
    return sorted(out)


def within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it (both absolute and normalised)."""
    return bool(directory) and (path == directory or path.startswith(directory.rstrip("/") + "/"))


def _override_key(ctx: PlanContext, decl: Decl) -> str | None:
    """The key of the stack's override of ``decl`` (``svc`` or ``app/svc``), if any."""
    overrides = ctx.stack.service_overrides
    if decl.name in overrides:
        return decl.name
    if decl.app and "/" in decl.name and (base := decl.name.split("/", 1)[1]) in overrides:
        return base
    return None


def _part_place(ctx: PlanContext, decl: Decl, part: str, key: str | None) -> tuple[str, str]:
    """File and dotted path of ``decl``'s run part ``part``: the stack's override when it gives the part."""
    field = to_camel(part)
    if key is not None and getattr(ctx.stack.service_overrides[key], part, None) is not None:
        return ctx.eco_file, f"stacks.{ctx.stack_name}.serviceOverrides.{key}.{field}"
    return decl.file, f"{decl.path}.{field}"


def _origin(ctx: PlanContext, decl: Decl, part: str | None, key: str | None) -> str:
    if part is None:
        return f"{decl.file}: {decl.path}"
    return ": ".join(_part_place(ctx, decl, part, key))


def check_parts(ctx: PlanContext, decl: Decl, effective: ServiceRequirement, key: str | None) -> None:
    """Every installed provider checks the run part it runs from, when the declaration has it (whichever runs it here)."""
    for descriptor in sorted(ctx.providers.values(), key=lambda d: d.name):
        part = getattr(effective, descriptor.runs_from, None) if descriptor.runs_from else None
        if part is None:
            continue
        file, path = _part_place(ctx, decl, descriptor.runs_from, key)
        try:
            descriptor.check_part(part, effective, ctx.plugins)
        except ConfigError as exc:
            raise exc.at(file=file, path_prefix=path) from None
        except ValidationError as exc:
            raise format_validation_error(exc, file=file, prefix=path) from None
        except ValueError as exc:
            raise PlanError(str(exc), file=file, path=path) from None


def _expand(ctx: PlanContext, decl: Decl) -> tuple[ServiceRequirement, Preset | None, dict[str, Any]]:
    entry = decl.entry
    if isinstance(entry, ServiceRequirement):
        return entry.model_copy(deep=True), None, {}
    preset = ctx.presets.get(entry.preset)
    if preset is None:
        hint = preset_hint(entry.preset)
        hint = f": {hint}" if hint else f"; installed presets: {', '.join(sorted(ctx.presets)) or '(none)'}"
        raise PlanError(f"unknown preset {entry.preset!r}{hint}", file=decl.file, path=f"{decl.path}.preset")
    try:
        config = preset.parse_config(entry.config)
    except ValidationError as exc:
        raise format_validation_error(exc, file=decl.file, prefix=f"{decl.path}.config", data=entry.config) from None
    files = layout.files_dir(ctx.project.root, ctx.stack_name, decl.name)
    expand_ctx = ExpandContext(project=ctx.project.name, stack=ctx.stack_name, service=decl.name, app=decl.app, project_dir=str(ctx.project.root), files_dir=str(files))
    req = preset.expand(config, expand_ctx)
    req = _apply_preset_entry(req, entry)
    dumped = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    return req, preset, dumped


def _secrets(ctx: PlanContext, decl: Decl, req: ServiceRequirement, preset: Preset | None) -> tuple[dict[str, str], list[GeneratedSecret]]:
    """Logical name -> store key; a preset's credentials are generated under ``project/stack/service/name``."""
    secrets = {k: v.secret for k, v in req.secrets.items()}
    generated: list[GeneratedSecret] = []
    for logical, cred in (preset.credentials if preset is not None else {}).items():
        if logical not in secrets:
            key = f"{ctx.project.name}/{ctx.stack_name}/{decl.name}/{logical}"
            secrets[logical] = key
            generated.append(GeneratedSecret(key=key, length=cred.length, alphabet=cred.alphabet))
    return secrets, generated


def _effective(ctx: PlanContext, decl: Decl, req: ServiceRequirement, preset: Preset | None, mode: str | None, override: ServiceOverride | None) -> ServiceRequirement:
    """The requirement as this stack sees it: the parts providers run from, overrides applied.

    A preset's process recipe honours the container's contract: it gets the
    same env and command (rendered like the container's).
    """
    docker = _docker_for(ctx, decl, req.docker, mode, override)
    bare_metal = override.bare_metal if override is not None and override.bare_metal else req.bare_metal
    process = req.process
    if process is None and preset is not None and preset.process_recipe() is not None:
        process = ProcessConfig(
            recipe=preset.name,
            env=dict(docker.env) if docker is not None else {},
            command=list(docker.command) if docker is not None and docker.command else None,
            stdin=docker.stdin if docker is not None else None,
        )
    return req.model_copy(update=dict(docker=docker, bare_metal=bare_metal, process=process))


def _docker_for(ctx: PlanContext, decl: Decl, docker: DockerServiceConfig | None, mode: str | None, override: ServiceOverride | None) -> DockerOptions | None:
    if docker is None:
        return override.docker if override is not None and override.docker is not None else None
    where = f"{decl.path}.docker"
    base = docker.model_dump(exclude={"variants"}, exclude_unset=True, by_alias=False)
    if docker.variants:
        if mode is not None and mode in docker.variants:
            base = _merge(base, docker.variants[mode].model_dump(exclude_unset=True, by_alias=False))
        elif mode is not None:
            raise PlanError(f"no docker variant for network mode {mode!r}; variants: {', '.join(sorted(docker.variants))}", file=decl.file, path=f"{where}.variants")
        elif not base.get("image"):
            raise PlanError(
                f"a network mode is needed to pick a docker variant ({', '.join(sorted(docker.variants))}): set networkMode on the stack or OMNITRON_NETWORK_MODE",
                file=decl.file, path=f"{where}.variants",
            )
    if override is not None and override.docker is not None:
        base = _merge(base, override.docker.model_dump(exclude_unset=True, by_alias=False))
    opts = DockerOptions.model_validate(base)
    for vol in opts.volumes:
        if vol.type == "bind" and not vol.source.startswith("/"):
            if vol.source.startswith("~"):
                raise PlanError("bind mount sources must be absolute or relative to the project", file=decl.file, path=f"{where}.volumes")
            vol.source = posixpath.normpath(posixpath.join(str(ctx.project.root), vol.source))
    if not opts.image:
        raise PlanError("docker.image is required", file=decl.file, path=f"{where}.image")
    return opts


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key in {"env", "labels"}:
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _apply_preset_entry(req: ServiceRequirement, entry: PresetService) -> ServiceRequirement:
    """The fields a preset entry gives next to ``preset`` win over what the preset expanded to."""
    update: dict[str, Any] = {}
    for name in ("description", "bare_metal", "health_check", "critical", "startup_timeout", "version"):
        if getattr(entry, name) is not None:
            update[name] = getattr(entry, name)
    for name in ("ports", "env", "secrets"):
        if getattr(entry, name):
            update[name] = {**getattr(req, name), **getattr(entry, name)}
    if entry.depends_on is not None:
        update["depends_on"] = list(entry.depends_on)
    if entry.docker is not None:
        base = req.docker.model_dump(exclude_unset=True, by_alias=False) if req.docker else {}
        update.update(docker=DockerServiceConfig.model_validate(_merge(base, entry.docker.model_dump(exclude_unset=True, by_alias=False))))
    return req.model_copy(update=update)
