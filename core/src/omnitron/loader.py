"""Reading declarations from disk: ``omnitron.config.py`` / ``omnitron.toml`` and apps' ``config/default.json``.

The only module that turns files into models. Every problem becomes one
:class:`~omnitron.errors.ConfigError` naming the file and the dotted path.
"""

from __future__ import annotations

import json
import runpy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .declare import EcosystemDeclaration, define_ecosystem  # noqa: F401  (re-exported)
from .errors import ConfigError
from .model import AppConfig, EcosystemConfig

CONFIG_FILES = ("omnitron.config.py", "omnitron.toml")
SCRIPT_SUFFIXES = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
"""Suffixes of the TypeScript original's config (``omnitron.config.ts``), which is not read here."""
SCRIPT_HINT = "write it as omnitron.config.py with define_ecosystem({...}) (the same camelCase keys) or as omnitron.toml"


def format_validation_error(exc: ValidationError, *, file: str | None, prefix: str | None = None, data: Any = None) -> ConfigError:
    """Turn pydantic's report into one line naming the most specific problem's dotted path.

    Union alternatives and validator tags in pydantic's locations are dropped by
    walking ``data`` (the input) along each location: only real keys and indexes stay.
    """
    errors = exc.errors(include_url=False)
    located = [(_clean_loc(err["loc"], data), err) for err in errors]
    loc, err = max(located, key=lambda pair: len(pair[0]))
    path = ".".join(str(p) for p in loc)
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] in {"int_type", "int_parsing", "string_type", "bool_type", "bool_parsing", "dict_type", "list_type", "float_type", "float_parsing", "model_type", "literal_error", "string_pattern_mismatch"}:
        msg = f"{msg}, got {_short(err.get('input'))}"
    others = {tuple(l) for l, _ in located if tuple(l) != tuple(loc[: len(l)])}
    if others:
        msg += f" (and {len(others)} more problem{'s' if len(others) > 1 else ''})"
    return ConfigError(msg, file=file, path=path or None)


def _clean_loc(loc: tuple[Any, ...], data: Any) -> list[Any]:
    out: list[Any] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and _camel(part) in current:
            out.append(_camel(part))
            current = current[_camel(part)]
        elif data is None and isinstance(part, (str, int)) and not _looks_like_tag(part):
            out.append(part)
        elif isinstance(current, dict) and isinstance(part, str) and not _looks_like_tag(part) and part not in current:
            # a missing key, or an unknown one pydantic reports under its own name
            out.append(part)
            current = None
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _looks_like_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part[:1].isupper() or "[" in part or part in {"int", "str", "bool", "float", "list", "dict", "function-after", "function-before", "function-plain", "function-wrap"}
    )


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(model: type[BaseModel], data: Any, *, file: str | None, prefix: str | None = None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, file=file, prefix=prefix, data=data) from None


def find_config(start: Path, *, parents: bool = True) -> Path | None:
    """The nearest ``omnitron.config.py`` / ``omnitron.toml`` at or above ``start`` (in ``start`` alone without ``parents``).

    :raises ConfigError: one exists there but is no readable file (a directory, a symlink loop, a dangling link).
    """
    for directory in (start, *start.parents) if parents else (start,):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
            problem = not_a_file(candidate)
            if problem is not None:
                raise ConfigError(problem, file=str(candidate))
    return None


def script_config(start: Path, *, parents: bool = True) -> Path | None:
    """The nearest ``omnitron.config.ts`` (or ``.js``, ...) at or above ``start``: the TypeScript original's form."""
    for directory in (start, *start.parents) if parents else (start,):
        for suffix in SCRIPT_SUFFIXES:
            candidate = directory / f"omnitron.config{suffix}"
            if candidate.is_file():
                return candidate
    return None


def not_a_file(path: Path) -> str | None:
    """Why ``path``, which is there, is not a file to read (``None``: it is one, or there is nothing at all)."""
    import errno
    import os

    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop (too many levels of symbolic links), expected a config file"
        if os.path.islink(path):
            return f"a symlink to {os.readlink(path)!r}, which does not exist"
        if exc.errno == errno.ENOENT:
            return None
        return f"cannot read: {exc.strerror}"
    if path.is_dir():
        return "a directory, expected a config file"
    if not path.is_file():
        return "not a regular file, expected a config file"
    return None


def _read_text(path: Path, shown: str) -> str:
    """The file's text as UTF-8; one line when it is not a readable file or not UTF-8."""
    problem = not_a_file(path) if path.exists() or path.is_symlink() else "no such file"
    if problem is not None:
        raise ConfigError(problem, file=shown)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=shown) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}): save the file as UTF-8", file=shown) from None


def read_ecosystem_file(path: Path) -> dict[str, Any]:
    """The raw declaration in ``path``, before validation."""
    name = path.name
    if path.suffix in SCRIPT_SUFFIXES:
        raise ConfigError(f"a TypeScript/JavaScript config is not read: {SCRIPT_HINT}", file=name)
    text = _read_text(path, name)
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", file=name) from None
    from .config_eval import evaluate

    return evaluate(path, lambda: _run_config(path, name), shown=name)


def _run_config(path: Path, name: str) -> dict[str, Any]:
    from .declare import DECLARED

    made: list[EcosystemDeclaration] = []
    token = DECLARED.set(made)
    try:
        namespace = runpy.run_path(str(path), run_name="omnitron_config")
    finally:
        DECLARED.reset(token)
    return _declaration(namespace, name, made)


def _declaration(namespace: dict[str, Any], name: str, made: list[EcosystemDeclaration] | None = None) -> dict[str, Any]:
    """The ecosystem a config's namespace declares, as a plain dict (still inside the config's time limit):
    the variable ``ecosystem``, else the one declaration a variable holds, else the one ``define_ecosystem``
    call the config made (``made``) without assigning it."""
    found = [v for k, v in namespace.items() if isinstance(v, EcosystemDeclaration)]
    if "ecosystem" in namespace and isinstance(namespace["ecosystem"], (EcosystemDeclaration, dict)):
        return dict(namespace["ecosystem"])
    if len(found) == 1:
        return dict(found[0])
    if not found and made is not None and len(made) == 1:
        return dict(made[0])
    if not found:
        raise ConfigError("no ecosystem declared: call define_ecosystem(...) once, or assign it to a variable named `ecosystem`", file=name)
    raise ConfigError("several define_ecosystem(...) results: name the one to use `ecosystem`", file=name)


@dataclass
class LoadedApp:
    name: str
    path: Path
    config_file: Path | None
    config: AppConfig


@dataclass
class LoadedProject:
    root: Path
    config_file: Path
    ecosystem: EcosystemConfig
    apps: dict[str, LoadedApp]
    warnings: list[str] = field(default_factory=list)
    """Problems that do not stop anything but that the user should hear of (an app without a config file)."""

    @property
    def name(self) -> str:
        return self.ecosystem.project or _project_name(self.root.name)


def _project_name(directory: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in directory).strip("-.") or "project"
    return cleaned[:63]


def load_app(root: Path, name: str, rel: str | None) -> LoadedApp:
    app_dir = (root / (rel or f"apps/{name}")).resolve()
    cfg = app_dir / "config" / "default.json"
    shown = _rel(cfg, root)
    if not cfg.is_file():
        problem = not_a_file(cfg)
        if problem is not None:
            raise ConfigError(problem, file=shown)
        if rel is not None and not app_dir.is_dir():
            raise ConfigError(f"app directory {rel!r} does not exist", file=None, path=f"apps.{name}.path")
        return LoadedApp(name, app_dir, None, AppConfig())
    try:
        data = json.loads(_read_text(cfg, shown))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=shown) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a JSON object", file=shown)
    raw = data.get("omnitron", {})
    config = validate(AppConfig, raw, file=shown, prefix="omnitron")
    return LoadedApp(name, app_dir, cfg, config)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_project(config_file: Path) -> LoadedProject:
    """Read and validate the ecosystem and every app it names."""
    config_file = config_file.resolve()
    root = config_file.parent
    raw = read_ecosystem_file(config_file)
    ecosystem = validate(EcosystemConfig, raw, file=config_file.name)
    apps: dict[str, LoadedApp] = {}
    for ref in ecosystem.apps:
        try:
            apps[ref.name] = load_app(root, ref.name, ref.path)
        except ConfigError as exc:
            if exc.file is None:
                raise exc.at(file=config_file.name) from None
            raise
    warnings = [missing_config_warning(app, root) for app in apps.values() if app.config_file is None]
    warnings += unknown_service_warnings(ecosystem, apps, root)
    return LoadedProject(root, config_file, ecosystem, apps, warnings)


def load_project_identity(config_file: Path) -> LoadedProject:
    """Only what the secret store needs, validated: the project's name and its ``secrets`` settings.

    The rest of the declaration is not looked at, so ``omnitron secret set`` works while another part of
    the config waits for that secret (the config's error tells the user to set it).
    """
    config_file = config_file.resolve()
    raw = read_ecosystem_file(config_file)
    ecosystem = validate(EcosystemConfig, {key: raw[key] for key in ("project", "secrets") if key in raw}, file=config_file.name)
    return LoadedProject(config_file.parent, config_file, ecosystem, {}, [])


def unknown_service_warnings(ecosystem: EcosystemConfig, apps: dict[str, LoadedApp], root: Path) -> list[str]:
    """What to say of an app's ``"services": {NAME: true}`` naming no service of the project: the app gets nothing
    from it (the spec's own example names services, ``discovery`` and ``notifications``, that a project may not run)."""
    known = set(ecosystem.infrastructure.services) | {name for app in apps.values() for name in app.config.infrastructure}
    declared = ", ".join(sorted(known)) or "(none)"
    return [
        f"{_rel(app.config_file, root)}: omnitron.services.{name}: no service named {name!r} in the ecosystem "
        f"(declared: {declared}), so app {app.name} gets nothing from it"
        for app in apps.values()
        if app.config_file is not None
        for name, used in app.config.services.items()
        if used and name not in known
    ]


def missing_config_warning(app: LoadedApp, root: Path) -> str:
    """What to say of an app whose ``config/default.json`` does not exist: it then uses no infrastructure."""
    shown = _rel(app.path / "config" / "default.json", root)
    return (
        f"app {app.name}: no {shown}, so it uses no infrastructure; create it with an \"omnitron\" key "
        f"(e.g. {{\"omnitron\": {{\"database\": true}}}}), or point \"path\" of its entry in apps at the app's directory"
    )
