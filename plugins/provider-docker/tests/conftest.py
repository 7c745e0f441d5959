"""Fixtures for the docker provider's tests: a real engine, the local test images, throwaway projects.

Tests marked ``docker`` are skipped (with the reason) only when no Docker
engine answers; a missing test image is a failure telling how to build it.
Everything a test creates carries its project's unique name in the
``omnitron.project`` label and is removed by label afterwards, with the
docker CLI (independently of the code under test).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from omnitron.testing import unavailable
from docker_testlib import TEST_IMAGES, Sandbox, engine_answers, remove_project

from omnitron_provider_docker import DockerProvider


def pytest_configure(config: pytest.Config) -> None:
    # also registered in pyproject.toml; repeated here for runs configured from elsewhere
    config.addinivalue_line("markers", "docker: needs a Docker engine (skipped with the reason when none answers)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None and not engine_answers():
        unavailable("no Docker engine answers (DOCKER_HOST or /var/run/docker.sock); start one with .ci/docker-up.sh")


@pytest.fixture(scope="session")
def test_images() -> None:
    if shutil.which("docker") is None:
        pytest.fail("the docker CLI is needed by these tests (apt-get install docker.io)")
    missing = [image for image in TEST_IMAGES if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0]
    if missing:
        pytest.fail(f"test images missing: {', '.join(missing)}; build them with: bash .ci/build-images.sh")


@pytest.fixture
def sandbox(tmp_path: Path, test_images: None) -> Iterator[Sandbox]:
    box = Sandbox(root=tmp_path, name=f"t{uuid.uuid4().hex[:10]}")
    try:
        yield box
    finally:
        remove_project(box.name)


@pytest.fixture
async def provider(sandbox: Sandbox) -> AsyncIterator[DockerProvider]:
    async with DockerProvider(sandbox.context()) as prov:
        yield prov


