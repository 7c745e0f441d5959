"""Fixtures: a throwaway project per test, run natively (Debian's MariaDB) or in Docker (the stand-in image).

A missing server, engine or image skips the test with the command that
provides it, and fails it when the run requires every server
(``OMNITRON_REQUIRE_SERVICES=1``, as CI sets). Whatever a test started is
removed afterwards: ``infra down --volumes``, then, for Docker, everything
labelled with the project's unique name (with the docker CLI, independently
of the code under test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mysql_testlib import IMAGE, Stack
from omnitron.testing import ProjectFactory, free_port, unavailable

PLUGINS = "mysql,process,docker"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, omnitron_isolated: Path) -> None:
    """This package's plugins only, a fresh secret key and user config dir (``omnitron_isolated``)."""
    monkeypatch.setenv("OMNITRON_PLUGINS", PLUGINS)
    monkeypatch.delenv("OMNITRON_PROCESS_BINARIES", raising=False)


def require_provider(provider: str) -> None:
    if provider == "process":
        if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").is_file()):
            unavailable("no MariaDB server here: apt-get install -y mariadb-server")
        return
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers (start one with .ci/docker-up.sh)")
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        pytest.fail(f"test image {IMAGE} is missing; build it with: ONLY=mysql bash .ci/build-images.sh")


@pytest.fixture
def project_dir() -> Iterator[Path]:
    """A project directory the unprivileged service account can reach (unlike pytest's 0700 tmp_path)."""
    path = Path(tempfile.mkdtemp(prefix="omnitron-mysql-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _stack(provider: str, project_dir: Path, omnitron_cli, omnitron_plugins) -> Iterator[Stack]:
    require_provider(provider)
    stack = Stack(
        root=project_dir, name=f"my{uuid.uuid4().hex[:10]}", provider=provider, cli=omnitron_cli,
        factory=ProjectFactory(project_dir, omnitron_plugins), port=free_port(),
    )
    try:
        yield stack
    finally:
        stack.cleanup()


@pytest.fixture(params=["process", "docker"])
def stack(request: pytest.FixtureRequest, project_dir: Path, omnitron_cli, omnitron_plugins) -> Iterator[Stack]:
    """A project run once natively and once in Docker."""
    yield from _stack(request.param, project_dir, omnitron_cli, omnitron_plugins)


@pytest.fixture
def native(project_dir: Path, omnitron_cli, omnitron_plugins) -> Iterator[Stack]:
    """A project run natively only."""
    yield from _stack("process", project_dir, omnitron_cli, omnitron_plugins)
