"""Fixtures of the swarm provider's tests: one swarm for the whole run, started and left only if the tests made it.

The engine is shared: a swarm that exists already is used and left alone;
one started here (``docker swarm init --advertise-addr 127.0.0.1``) is left
again at the end (``docker swarm leave --force``), and ``docker_gwbridge``,
which leaving leaves behind, is removed unless a container still uses it.
Tests needing swarm mode live in one module, so they never run in parallel.
Everything a test creates carries its project's unique name in the
``omnitron.project`` label and is removed by label afterwards.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from omnitron.testing import unavailable
from swarm_testlib import TEST_IMAGES, docker, leave_swarm, swarm_state


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "swarm: needs a Docker engine it may put in swarm mode (skipped with the reason when none answers)")


@pytest.fixture(scope="session")
def test_images() -> None:
    missing = [image for image in TEST_IMAGES if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0]
    if missing:
        pytest.fail(f"test images missing: {', '.join(missing)}; build them with: bash .ci/build-images.sh")


@pytest.fixture(scope="session")
def swarm(test_images: None) -> Iterator[None]:
    state = swarm_state()
    if state is None:
        unavailable("no Docker engine answers (or no docker CLI); start one with .ci/docker-up.sh")
    created = False
    if state == "inactive":
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        created = True
    elif state != "active":
        pytest.fail(f"the Docker engine's swarm is {state}: neither active nor inactive, the swarm tests cannot use it")
    try:
        yield
    finally:
        if created:
            leave_swarm()
