"""Fixtures of the swarm provider's tests: one swarm for the whole run, started and left only if the tests made it.

The engine is shared: a swarm that exists already is used and left alone;
one started here (``docker swarm init --advertise-addr 127.0.0.1``) is left
again at the end (``docker swarm leave --force``), and ``docker_gwbridge``,
which leaving leaves behind, is removed unless a container still uses it.
Everything a test creates carries its project's unique name in the
``omnitron.project`` label and is removed by label afterwards.

Swarm mode is one per engine: the whole run holds a file lock (see
:func:`swarm_testlib.lock_path`) from before ``swarm init`` until after
``swarm leave``, so two runs (two checkouts, the benchmark) never put the
shared engine in and out of swarm mode under each other. Other tests using the
engine for plain containers need not know about it: a canary container
started before ``swarm init`` is checked to run on, untouched and answering,
after ``swarm leave``; the engine is checked to be back where it was
(swarm inactive, no ``ingress`` or ``docker_gwbridge`` network).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from omnitron.testing import unavailable
from swarm_testlib import TEST_IMAGES, Canary, docker, leave_swarm, swarm_lock, swarm_state


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "swarm: needs a Docker engine it may put in swarm mode (skipped with the reason when none answers)")


@pytest.fixture(scope="session")
def test_images() -> None:
    missing = [image for image in TEST_IMAGES if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0]
    if missing:
        pytest.fail(f"test images missing: {', '.join(missing)}; build them with: bash .ci/build-images.sh")


@pytest.fixture(scope="session")
def swarm(test_images: None) -> Iterator[None]:
    if swarm_state() is None:
        unavailable("no Docker engine answers (or no docker CLI); start one with .ci/docker-up.sh")
    with swarm_lock(say=lambda line: print(line, flush=True)):
        yield from _in_swarm_mode()


def swarm_networks() -> set[str]:
    """Which of the networks swarm mode brings (``ingress``, ``docker_gwbridge``) exist."""
    names = docker("network", "ls", "--format", "{{.Name}}").split()
    return {"ingress", "docker_gwbridge"} & set(names)


def _in_swarm_mode() -> Iterator[None]:
    state = swarm_state()
    if state == "active":
        yield  # someone's swarm: used as it is, never left
        return
    if state != "inactive":
        pytest.fail(f"the Docker engine's swarm is {state}: neither active nor inactive, the swarm tests cannot use it")
    before = swarm_networks()
    canary = Canary()
    try:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        try:
            yield
        finally:
            leave_swarm()
        assert swarm_state() == "inactive"
        assert swarm_networks() <= before, f"swarm leave left networks behind: {sorted(swarm_networks() - before)}"
        canary.check()
    finally:
        canary.remove()
