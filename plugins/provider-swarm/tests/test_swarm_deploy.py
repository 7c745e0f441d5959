"""``docker.deploy`` and ``docker.resources`` on a real single-node swarm: replicas, placement, limits, Swarm's own health check.

A stateless service (two replicas of a shell in the Debian test image) is
brought up once for the module. Each task must run with the declared limits;
a task made unhealthy is replaced by Swarm; a placement no node satisfies
fails ``infra up`` with the scheduler's reason instead of hanging.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarm_testlib import docker, leftovers, omnitron, remove_project, running_containers, service_inspect, wait_until

pytestmark = pytest.mark.swarm
STACK = "cluster"
IMAGE = "omnitron-test/debian:bookworm"
MEMORY = 64 * 1024 * 1024


def write(root: Path, name: str, service: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "omnitron.toml").write_text(f'project = "{name}"\n{service}[stacks.{STACK}]\ntype = "cluster"\nprovider = "swarm"\n')


WORKER = f"""
[infrastructure.services.worker]
startupTimeout = 60000
[infrastructure.services.worker.docker]
image = "{IMAGE}"
command = ["sh", "-c", "touch /tmp/ok && exec sleep infinity"]
resources = {{memory = "64m", cpus = 0.25}}
deploy = {{replicas = 2, constraints = ["node.role == manager"]}}
healthCheck = {{test = ["CMD-SHELL", "test -f /tmp/ok"], interval = 1000, timeout = 1000, retries = 2, startPeriod = 1000}}
"""

NOWHERE = f"""
[infrastructure.services.stuck]
startupTimeout = 5000
[infrastructure.services.stuck.docker]
image = "{IMAGE}"
command = ["sleep", "infinity"]
deploy = {{constraints = ["node.labels.omnitron-test-nowhere == yes"]}}
"""


def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(tmp_path_factory.mktemp("config"))}


@pytest.fixture(scope="module")
def workers(swarm: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("deploy")
    name = f"swd{uuid.uuid4().hex[:8]}"
    variables = env(tmp_path_factory)
    write(root, name, WORKER)
    try:
        omnitron(root, "infra", "up", "--stack", STACK, env=variables)
        yield root, name, variables
        omnitron(root, "infra", "down", "--stack", STACK, "--volumes", env=variables)
        assert leftovers(name) == {}
    finally:
        remove_project(name)


def healthy(container: str) -> bool:
    state = json.loads(docker("inspect", container, check=False) or "[{}]")[0].get("State") or {}
    return bool(state.get("Running")) and (state.get("Health") or {}).get("Status") == "healthy"


def test_replicas_placement_and_limits_reach_every_task(workers: tuple[Path, str, dict[str, str]]) -> None:
    root, name, variables = workers
    spec = service_inspect(name, STACK, "worker")["Spec"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {"MemoryBytes": MEMORY, "NanoCPUs": 250_000_000}
    containers = wait_until(lambda: (c := running_containers(name, "worker")) and len(c) == 2 and c, what="two running tasks")
    for container in containers:
        host = json.loads(docker("inspect", container))[0]["HostConfig"]
        assert (host["Memory"], host["NanoCpus"]) == (MEMORY, 250_000_000)
    status = json.loads(omnitron(root, "infra", "status", "--stack", STACK, "--json", env=variables).stdout)
    assert status["services"]["worker"]["status"] == "running" and status["services"]["worker"]["provider"] == "swarm"


def test_an_unhealthy_task_is_replaced_by_swarm(workers: tuple[Path, str, dict[str, str]]) -> None:
    _, name, _ = workers
    containers = wait_until(lambda: (c := running_containers(name, "worker")) and len(c) == 2 and all(map(healthy, c)) and c, what="two healthy tasks")
    sick = containers[0]
    docker("exec", sick, "rm", "/tmp/ok")  # its health check fails from now on; nothing else is wrong with it
    replaced = wait_until(
        lambda: sick not in (c := running_containers(name, "worker")) and len(c) == 2 and all(map(healthy, c)) and c,
        what="Swarm replacing the unhealthy task",
    )
    assert containers[1] in replaced
    assert json.loads(docker("inspect", sick, check=False) or "[{}]")[0].get("State", {}).get("Running") is not True


def test_a_placement_no_node_meets_fails_up_with_the_schedulers_reason(swarm: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("nowhere")
    name = f"swn{uuid.uuid4().hex[:8]}"
    variables = env(tmp_path_factory)
    write(root, name, NOWHERE)
    try:
        result = omnitron(root, "infra", "up", "--stack", STACK, env=variables, check=False, timeout=120)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "no suitable node" in output and "Traceback" not in output
        omnitron(root, "infra", "down", "--stack", STACK, "--volumes", env=variables)
        assert leftovers(name) == {}
    finally:
        remove_project(name)
