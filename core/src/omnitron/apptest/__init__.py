"""The pytest plugin for testing apps against real infrastructure (enabled by installing omnitron-core).

Fixtures (separate from :mod:`omnitron.testing`, which serves plugin authors):

- ``omnitron_stack`` (session): the project's stack brought up (the ``test``
  stack when there is one, on the ``process`` provider unless
  ``--omnitron-provider`` says otherwise, so no Docker is needed), every app's
  migrations run; ``.apps[APP]`` is an app's env, ``.services[NAME]`` a
  service's host, ports and URLs. Brought down with its data afterwards, unless
  ``--omnitron-keep`` keeps it running for the next run. A stack other than the project's
  default one trades durability for speed (Postgres without ``fsync``, as pytest-postgresql
  runs it) unless ``--omnitron-durable``.
- ``omnitron_database`` (function): a fresh database for the test, cloned from
  the app's migrated one (``CREATE DATABASE ... TEMPLATE``), dropped afterwards;
  ``DATABASE_URL`` points at it during the test.
- ``omnitron_redis`` (function): the app's Redis DB index, flushed; ``REDIS_URL`` set.
- ``omnitron_app`` (function): which app those are for: ``@pytest.mark.omnitron_app("orders")``,
  the ``omnitron_app`` ini option, or the project's only app.

Options: ``--omnitron-project DIR``, ``--omnitron-stack NAME``, ``--omnitron-provider NAME``,
``--omnitron-keep`` (ini: ``omnitron_project``, ``omnitron_stack``, ``omnitron_provider``, ``omnitron_app``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..install_hints import APP_TEST_PROVIDER as DEFAULT_PROVIDER


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("omnitron", "omnitron: app tests against real infrastructure")
    group.addoption("--omnitron-keep", action="store_true", default=False, help="keep the test stack running after the session (the next run skips starting the servers)")
    group.addoption("--omnitron-durable", action="store_true", default=False, help="leave the servers' durability as configured (by default a stack only tests use runs without fsync)")
    group.addoption("--omnitron-project", default=None, help="project directory (default: found from the tests up, or OMNITRON_PROJECT)")
    group.addoption("--omnitron-stack", default=None, help="stack to bring up (default: 'test' when the project has one, else its default stack)")
    group.addoption("--omnitron-provider", default=None, help=f"provider for the stack's services (default: {DEFAULT_PROVIDER}; 'auto' lets omnitron choose)")
    for name, help_text in (("omnitron_project", "project directory"), ("omnitron_stack", "stack to bring up"), ("omnitron_provider", "provider"), ("omnitron_app", "app of omnitron_database/omnitron_redis")):
        parser.addini(name, help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "omnitron_app(name): the app whose database/redis the omnitron fixtures give this test")


def _setting(config: pytest.Config, name: str) -> str | None:
    return config.getoption(f"--{name.replace('_', '-')}") or config.getini(name) or None


def find_project(config: pytest.Config) -> Path:
    """``--omnitron-project``, ``OMNITRON_PROJECT``, or the nearest config file above the tests, the rootdir or the current directory."""
    from ..loader import find_config

    explicit = _setting(config, "omnitron_project") or os.environ.get("OMNITRON_PROJECT")
    if explicit:
        return Path(explicit)
    starts = [Path(a.split("::")[0]) for a in config.args] + [config.rootpath, Path.cwd()]
    for start in starts:
        start = start.resolve()
        found = find_config(start if start.is_dir() else start.parent)
        if found is not None:
            return found
    raise pytest.UsageError("omnitron: no omnitron.config.py or omnitron.toml above the tests: pass --omnitron-project DIR")


def open_stack(config: pytest.Config) -> Any:
    from ..errors import OmnitronError
    from ..project import Project
    from ..usecases import load_stack
    from .stack import AppStack

    app_stack = None
    try:
        project = Project.discover(find_project(config))
        stack = _setting(config, "omnitron_stack") or ("test" if "test" in project.loaded.ecosystem.stacks else None)
        loaded = load_stack(project, stack, _setting(config, "omnitron_provider") or DEFAULT_PROVIDER)
        app_stack = AppStack(loaded, keep=bool(config.getoption("--omnitron-keep")), durable=bool(config.getoption("--omnitron-durable")))
        return app_stack.start()
    except OmnitronError as exc:
        failure = f"omnitron: {exc}"
    if app_stack is not None:
        app_stack.stop()  # what came up goes down again (unless kept)
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def omnitron_stack(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The project's stack, up for the whole session (see the module's docs)."""
    stack = open_stack(pytestconfig)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def omnitron_app(request: pytest.FixtureRequest, omnitron_stack: Any) -> str:
    """The app the per-test fixtures serve: the marker's, the ini option's, or the only app."""
    marker = request.node.get_closest_marker("omnitron_app")
    if marker is not None and marker.args:
        return str(marker.args[0])
    configured = request.config.getini("omnitron_app")
    if configured:
        return str(configured)
    apps = sorted(omnitron_stack.stack.plan.apps)
    if len(apps) != 1:
        pytest.fail(f"omnitron: the project has {len(apps)} apps ({', '.join(apps) or 'none'}): say which with @pytest.mark.omnitron_app(NAME) or the omnitron_app ini option", pytrace=False)
    return apps[0]


def _copy(omnitron_stack: Any, app: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from ..errors import OmnitronError

    try:
        copy = omnitron_stack.fresh(app, kind)
    except OmnitronError as exc:
        copy, failure = None, f"omnitron: {exc}"
    if copy is None:
        pytest.fail(failure, pytrace=False)
    for key, value in copy.bound.items():
        monkeypatch.setenv(key, value)
    try:
        yield copy
    finally:
        omnitron_stack.drop(copy)


@pytest.fixture
def omnitron_database(omnitron_stack: Any, omnitron_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A database of the test's own, cloned from the app's migrated one; ``.url``, ``.name``, ``.env``; dropped after."""
    yield from _copy(omnitron_stack, omnitron_app, "database", monkeypatch)


@pytest.fixture
def omnitron_redis(omnitron_stack: Any, omnitron_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app's Redis DB index, flushed for the test; ``.url``, ``.env``."""
    yield from _copy(omnitron_stack, omnitron_app, "redis_db", monkeypatch)
