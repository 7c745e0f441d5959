"""The testing kit for plugin authors, loaded automatically as the ``omnitron`` pytest plugin.

Fixtures:

- ``omnitron_plugins``: a fresh :class:`~omnitron.plugins.PluginManager` with the
  installed plugins loaded.
- ``register_plugin``: register a module or object as a plugin for one test.
- ``omnitron_project``: write a temporary project (ecosystem + apps) and get a
  :class:`~omnitron.project.Project` using the same plugin manager.
- ``omnitron_cli``: run the ``omnitron`` CLI in-process, returning exit code, stdout, stderr.
- ``omnitron_isolated``: a fresh secret key (``OMNITRON_SECRET_KEY``) and user config
  directory (``OMNITRON_CONFIG_DIR``) for the test, so nothing touches the real ones;
  the daemon stays off (``OMNITRON_DAEMON=off``, as for the whole run).
- ``omnitron_daemon``: the daemon switched on for one test; every project it is
  told of (``.watch(root)``) has its daemon stopped afterwards. A run that leaves a
  daemon process behind fails (see :mod:`omnitron.testing.daemons`).
- ``anyio_backend``: ``asyncio`` (anyio's pytest plugin runs ``async def`` tests on it).

Helpers: :func:`unavailable` (skip when a real server is missing, fail when the
run requires it), :func:`free_port` (a TCP port nothing listens on now: tests
run side by side, never on a fixed port), :func:`free_port_offset` (a ``portOffsets`` value under which
given ports are free and below the kernel's ephemeral range), :class:`CliProject` (a project under
``/tmp`` driven through the real CLI in a subprocess), :func:`imports_beyond_api` (a plugin's imports of omnitron's
internals), :func:`plugin_manager`,
:func:`render_runtime_spec`, :func:`provider_context`, :func:`to_toml`, :func:`modules_imported_by`, :func:`run_script`
(what a command imports, run in a fresh interpreter); and
the engine below the use cases, for tests that drive it directly: ``PluginManager``, ``Project``, ``Session``,
``up``, ``status``, ``app_env``, ``render_app_env``, ``Renderer``, ``backend_for``,
``resolver_for``, ``main`` (the CLI in-process). The provider contract
suite every provider runs is :class:`omnitron.testing.contract.ProviderContract`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..hostports import free_port, free_port_offset
from .cli_project import CliProject, imports_beyond_api
from .daemons import DaemonSwitch, omnitron_daemon, pytest_configure, pytest_sessionfinish  # noqa: F401  (pytest hooks and fixture)
from .helpers import ScriptRun, modules_imported_by, plugin_manager, provider_context, render_runtime_spec, run_script

if TYPE_CHECKING:  # noqa: F401  (names resolved lazily by __getattr__)
    from ..cli import main
    from ..engine import Session, app_env, status, up
    from ..env import render_app_env
    from ..plugins import PluginManager
    from ..project import Project
    from ..secrets.resolve import backend_for, resolver_for
    from ..templating import Renderer

_ENGINE: dict[str, str] = {
    "PluginManager": "plugins:PluginManager",
    "Project": "project:Project",
    "Renderer": "templating:Renderer",
    "Session": "engine.session:Session",
    "up": "engine.provision:up",
    "status": "engine.inspect:status",
    "app_env": "engine.render:app_env",
    "render_app_env": "env:render_app_env",
    "backend_for": "secrets.resolve:backend_for",
    "resolver_for": "secrets.resolve:resolver_for",
    "main": "cli:main",
}
"""The engine itself, for plugin tests that drive it below the use cases (resolved on first use)."""

__all__ = ["CliProject", "CliResult", "DaemonSwitch", "ProjectFactory", "free_port", "free_port_offset", "imports_beyond_api", "modules_imported_by", "plugin_manager", "provider_context", "render_runtime_spec", "run_script", "ScriptRun", "to_toml", "unavailable", *_ENGINE]


def __getattr__(name: str) -> Any:
    target = _ENGINE.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    module, _, attr = target.partition(":")
    return getattr(import_module(f"omnitron.{module}"), attr)


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
def anyio_backend() -> str:
    """anyio's pytest plugin runs ``async def`` tests on asyncio."""
    return "asyncio"


@pytest.fixture
def omnitron_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh secret key and user config directory for this test; returns the config directory."""
    import os

    config = tmp_path_factory.mktemp("user-config")
    monkeypatch.setenv("OMNITRON_DAEMON", "off")
    monkeypatch.setenv("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(config))
    return config


@pytest.fixture
def omnitron_plugins():
    """A fresh plugin manager with built-ins and installed plugins."""
    from ..plugins import PluginManager

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
        from ..project import Project

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
    from ..cli import main
    from ..plugins import set_default_manager

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    set_default_manager(omnitron_plugins)
    yield run
    set_default_manager(None)


def to_toml(data: dict[str, Any]) -> str:
    """``data`` as TOML (tomli-w), for writing ``omnitron.toml`` in tests."""
    import tomli_w

    return tomli_w.dumps(data)
