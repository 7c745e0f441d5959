"""pytest fixtures for plugin authors (loaded automatically as the ``omnitron`` pytest plugin).

- ``omnitron_plugins``: a fresh :class:`~omnitron.plugins.PluginManager` with the
  installed plugins loaded.
- ``register_plugin``: register a module or object as a plugin for one test.
- ``omnitron_project``: write a temporary project (ecosystem + apps) and get a
  :class:`~omnitron.project.Project` using the same plugin manager.
- ``omnitron_cli``: run the ``omnitron`` CLI in-process, returning exit code, stdout, stderr.
- :func:`unavailable`: skip when a real server is missing, fail when the run requires it.
- :func:`free_port`: a TCP port nothing listens on now (tests run side by side: never a fixed port).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .hostports import free_port

__all__ = ["CliResult", "ProjectFactory", "free_port", "to_toml", "unavailable"]


def unavailable(reason: str) -> None:
    """Skip a test whose real server cannot be had here; fail instead when it must be.

    ``.ci/run`` sets ``OMNITRON_REQUIRE_SERVICES=1``: there every server the
    tests need is installed, so a missing one is a failure, never a silent skip.
    """
    import os

    if os.environ.get("OMNITRON_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required for this run (OMNITRON_REQUIRE_SERVICES=1): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def omnitron_plugins():
    """A fresh plugin manager with built-ins and installed plugins."""
    from .plugins import PluginManager

    return PluginManager()


@pytest.fixture
def register_plugin(omnitron_plugins) -> Iterator[Callable[..., str]]:
    """``register_plugin(obj, name=None)`` registers ``obj`` for this test only."""
    names: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        registered = omnitron_plugins.register(plugin, name=name)
        names.append(registered)
        return registered

    yield register
    for name in names:
        try:
            omnitron_plugins.unregister(name)
        except ValueError:
            pass


@dataclass
class ProjectFactory:
    root: Path
    plugins: Any

    def write(self, ecosystem: dict[str, Any], apps: dict[str, dict[str, Any]] | None = None, *, fmt: str = "py") -> Any:
        """Write ``omnitron.config.py`` (or ``.toml``) and each app's ``config/default.json``.

        ``apps`` maps app name -> the ``omnitron`` key of its config; apps not
        listed in ``ecosystem["apps"]`` are added there.
        """
        from .project import Project

        ecosystem = dict(ecosystem)
        listed = {a["name"] for a in ecosystem.get("apps", [])}
        ecosystem["apps"] = list(ecosystem.get("apps", [])) + [{"name": n} for n in (apps or {}) if n not in listed]
        for name, config in (apps or {}).items():
            cfg = self.root / "apps" / name / "config" / "default.json"
            cfg.parent.mkdir(parents=True, exist_ok=True)
            cfg.write_text(json.dumps({"omnitron": config}, indent=2))
        for old in ("omnitron.config.py", "omnitron.toml"):
            (self.root / old).unlink(missing_ok=True)
        if fmt == "toml":
            import tomllib  # noqa: F401  (toml output uses a tiny writer below)

            path = self.root / "omnitron.toml"
            path.write_text(to_toml(ecosystem))
        else:
            path = self.root / "omnitron.config.py"
            path.write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({ecosystem!r})\n")
        return Project(path, self.plugins)


@pytest.fixture
def omnitron_project(tmp_path: Path, omnitron_plugins) -> ProjectFactory:
    """Write a project in a temporary directory: ``omnitron_project.write(ecosystem, apps)``."""
    return ProjectFactory(tmp_path, omnitron_plugins)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def omnitron_cli(capsys: pytest.CaptureFixture[str], omnitron_plugins) -> Iterator[Callable[..., CliResult]]:
    """Run ``omnitron ARGS`` in-process: ``omnitron_cli("infra", "plan", "--json")``.

    Commands use the test's ``omnitron_plugins`` (with what ``register_plugin`` added).
    """
    from .cli import main
    from .plugins import set_default_manager

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    set_default_manager(omnitron_plugins)
    yield run
    set_default_manager(None)


def to_toml(data: dict[str, Any]) -> str:
    """Enough TOML for test projects: top-level values, ``[table]`` per dict (values inline), ``[[array]]`` for lists of dicts."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"[[{key}]]")
                lines.extend(f"{k} = {_toml_value(v)}" for k, v in item.items())
                lines.append("")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in tables:
        lines.append(f"[{key}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        lines.append("")
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
