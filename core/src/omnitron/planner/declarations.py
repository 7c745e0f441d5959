"""Stage 1: collect every service declaration: the ecosystem's, the apps' own, and what app shorthands need.

Identical declarations of one service by several apps are one service; a
different declaration under a taken name becomes the app's own ``app/svc``.
A shorthand (``"database": true``) binds the app to the shared service of its
preset (added when none is declared) or, with ``dedicated``, to one of its own.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, PlanError
from ..install_hints import PRESET_PACKAGES, SHORTHAND_PRESETS
from ..loader import LoadedApp
from ..model import DatabaseRequest, PresetService, RedisRequest, S3Request
from ..presets import Preset
from .inputs import Binding, Decl, PlanContext


def collect(ctx: PlanContext) -> None:
    """Fill ``ctx.decls``, ``ctx.bindings`` and ``ctx.app_services``."""
    for name, entry in ctx.eco.infrastructure.services.items():
        ctx.decls[name] = Decl(name, entry, ctx.eco_file, f"infrastructure.services.{name}")
    for app in ctx.project.apps.values():
        _app_infrastructure(ctx, app)
    for app in ctx.project.apps.values():
        _app_service_references(ctx, app)
    for app in ctx.project.apps.values():
        _app_shorthands(ctx, app)
    _app_scoped_overrides(ctx)


def default_bucket(app: str) -> str:
    """The bucket ``"s3": true`` asks for: the app's name made a valid S3 bucket name."""
    name = "".join(c if c.isalnum() or c in ".-" else "-" for c in app.lower()).strip(".-")
    return (name or "app").ljust(3, "0")[:63]


def _uses(ctx: PlanContext, app: str, service: str) -> None:
    if service not in ctx.app_services[app]:
        ctx.app_services[app].append(service)


def _app_infrastructure(ctx: PlanContext, app: LoadedApp) -> None:
    file = ctx.app_file(app)
    for name, entry in app.config.infrastructure.items():
        path = f"omnitron.infrastructure.{name}"
        existing = ctx.decls.get(name)
        if existing is None:
            ctx.decls[name] = Decl(name, entry, file, path, app=None)
            ctx.app_services[app.name].append(name)
        elif _same(existing.entry, entry):
            ctx.app_services[app.name].append(name)
        else:
            scoped = f"{app.name}/{name}"
            ctx.decls[scoped] = Decl(scoped, entry, file, path, app=app.name)
            ctx.app_services[app.name].append(scoped)


def _app_service_references(ctx: PlanContext, app: LoadedApp) -> None:
    """``"services": {NAME: true}``: the app uses a service the ecosystem or an app declares. A name that none
    declares gives the app nothing; loading the project warned of it (:func:`..loader.unknown_service_warnings`)."""
    for name, used in app.config.services.items():
        if used and name in ctx.decls:
            _uses(ctx, app.name, name)


def _app_shorthands(ctx: PlanContext, app: LoadedApp) -> None:
    cfg = app.config
    file = ctx.app_file(app)
    for kind, value, model in (("database", cfg.database, DatabaseRequest), ("redis", cfg.redis, RedisRequest), ("s3", cfg.s3, S3Request)):
        if value is False:
            continue
        request = model() if value is True else value
        if isinstance(request, S3Request) and request.bucket is None:
            request = request.model_copy(update={"bucket": default_bucket(app.name)})
        preset = shorthand_preset(ctx, kind, getattr(request, "dialect", None), file)
        if request.dedicated:
            name = f"{app.name}/{preset.name}"
            config = preset.dedicated_config(app.name, request)
            ctx.decls[name] = Decl(name, PresetService(preset=preset.name, config=config), file, f"omnitron.{kind}", app=app.name, auto=True)
        else:
            name = shared_service(ctx, kind, preset, request.service, file)
        try:
            binding = preset.bind_app(app.name, request, name)
        except ConfigError as exc:  # a request the preset cannot honour, located in the app's file
            raise exc.at(file=exc.file or file, path_prefix=f"omnitron.{kind}") from None
        ctx.bindings.setdefault(app.name, []).append(Binding(name, binding.env, binding.allocation, f"omnitron.{kind}", dict(binding.credentials)))
        _uses(ctx, app.name, name)


def shorthand_preset(ctx: PlanContext, kind: str, dialect: str | None, file: str) -> Preset:
    for preset in ctx.presets.values():
        if preset.shorthand == kind and (kind != "database" or dialect in preset.dialects):
            return preset
    if kind == "database":
        package = PRESET_PACKAGES.get(dialect or "")
        installed = sorted({d for p in ctx.presets.values() if p.shorthand == kind for d in p.dialects})
        hint = f" (install {package})" if package else ""
        path = "omnitron.database.dialect" if dialect != "postgres" else "omnitron.database"
        raise PlanError(f"no installed preset serves dialect {dialect!r}{hint}; installed dialects: {', '.join(installed) or '(none)'}", file=file, path=path)
    package = PRESET_PACKAGES[SHORTHAND_PRESETS[kind]]
    raise PlanError(f"no installed preset serves the {kind!r} shorthand: install {package}", file=file, path=f"omnitron.{kind}")


def shared_service(ctx: PlanContext, kind: str, preset: Preset, wanted: str | None, file: str, where: str | None = None) -> str:
    """The shared service of ``preset`` a shorthand binds to (added when none is declared); ``where``: the shorthand's dotted path."""
    where = where or f"omnitron.{kind}"
    candidates = [n for n, d in ctx.decls.items() if d.app is None and isinstance(d.entry, PresetService) and d.entry.preset == preset.name]
    if wanted is not None:
        if wanted not in candidates:
            raise PlanError(f"no {preset.name} service named {wanted!r}; {preset.name} services: {', '.join(candidates) or '(none)'}", file=file, path=f"{where}.service")
        return wanted
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise PlanError(f"several {preset.name} services ({', '.join(candidates)}): say which with \"service\"", file=file, path=where)
    name = preset.name if preset.name not in ctx.decls else f"{preset.name}-shared"
    ctx.decls[name] = Decl(name, PresetService(preset=preset.name), file, where, auto=True)
    return name


def _app_scoped_overrides(ctx: PlanContext) -> None:
    """``app/svc`` override keys give that app a copy of ``svc`` (which the override then changes)."""
    for key in ctx.stack.service_overrides:
        path = f"stacks.{ctx.stack_name}.serviceOverrides.{key}"
        if "/" not in key:
            if key not in ctx.decls:
                raise PlanError(f"unknown override target: no service named {key!r}", file=ctx.eco_file, path=path)
            continue
        app, svc = key.split("/", 1)
        if app not in ctx.project.apps:
            raise PlanError(f"unknown override target: no app named {app!r}", file=ctx.eco_file, path=path)
        if key in ctx.decls:
            continue
        if svc not in ctx.decls:
            raise PlanError(f"unknown override target: no service named {svc!r}", file=ctx.eco_file, path=path)
        if svc not in ctx.app_services[app]:
            raise PlanError(f"unknown override target: app {app!r} does not use service {svc!r}", file=ctx.eco_file, path=path)
        base = ctx.decls[svc]
        ctx.decls[key] = Decl(key, base.entry, base.file, base.path, app=app)
        ctx.app_services[app] = [key if s == svc else s for s in ctx.app_services[app]]
        for binding in ctx.bindings.get(app, []):
            if binding.service == svc:
                binding.service = key


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a.model_dump() == b.model_dump()
