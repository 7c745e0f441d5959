"""Helpers of the swarm provider's tests: the docker CLI, the omnitron CLI, a swarm the tests start and leave."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

POSTGRES_IMAGE = "omnitron-test/postgres:15"
REDIS_IMAGE = "omnitron-test/redis:7"
DEBIAN_IMAGE = "omnitron-test/debian:bookworm"
TEST_IMAGES = (POSTGRES_IMAGE, REDIS_IMAGE, DEBIAN_IMAGE)
OMNITRON = [str(Path(sys.executable).parent / "omnitron")]
GWBRIDGE = "docker_gwbridge"
LOCK_ENV = "OMNITRON_SWARM_LOCK"
SHARED_LOCK = Path(tempfile.gettempdir()) / "omnitron-docker-swarm.lock"


def lock_path() -> Path:
    """The file that serialises everything putting the shared engine in swarm mode (tests, the benchmark):
    ``$OMNITRON_SWARM_LOCK``, else one machine-wide file in the temp directory."""
    if os.environ.get(LOCK_ENV):
        return Path(os.environ[LOCK_ENV])
    return SHARED_LOCK


@contextlib.contextmanager
def swarm_lock(say=print) -> Iterator[None]:
    """Hold the swarm lock (waiting for another run to finish with the engine's swarm mode)."""
    path = lock_path()
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {path}: another run is using the engine's swarm mode")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def swarm_state() -> str | None:
    """The engine's ``Swarm.LocalNodeState``, ``None`` when no engine answers."""
    if shutil.which("docker") is None:
        return None
    result = subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], capture_output=True, text=True, timeout=30)
    return result.stdout.strip() if result.returncode == 0 else None


def leave_swarm() -> None:
    """``swarm leave --force``, then ``docker_gwbridge`` (which leaving leaves behind) unless a container still uses it."""
    docker("swarm", "leave", "--force", check=False)
    users = subprocess.run(["docker", "network", "inspect", GWBRIDGE, "--format", "{{len .Containers}}"], capture_output=True, text=True)
    if users.returncode == 0 and users.stdout.strip() == "0":
        docker("network", "rm", GWBRIDGE, check=False)


class Canary:
    """A plain container (not a swarm task) on a bridge network of its own with a published port, started before
    ``swarm init``: after ``swarm leave`` it must still be the same running container, answering on its port."""

    def __init__(self) -> None:
        self.label = f"omnitron-swarm-canary={uuid.uuid4().hex[:8]}"
        self.network = f"omnitron-swarm-canary-{self.label.rsplit('=', 1)[1]}"
        docker("network", "create", "--label", self.label, self.network)
        self.id = docker(
            "run", "-d", "--label", self.label, "--network", self.network, "-p", "127.0.0.1::6379", REDIS_IMAGE,
            "redis-server", "--save", "", "--appendonly", "no",
        ).strip()
        self.port = int(docker("port", self.id, "6379/tcp").split(":")[-1])
        self.started_at = self.inspect()["State"]["StartedAt"]
        self.wait_answering()

    def inspect(self) -> dict[str, Any]:
        return json.loads(docker("inspect", self.id))[0]

    def answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def wait_answering(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise AssertionError(f"the canary container {self.id[:12]} does not answer on 127.0.0.1:{self.port}")
            time.sleep(0.2)

    def check(self) -> None:
        """The canary survived: same container, running since before, its network there, answering."""
        info = self.inspect()
        state = info["State"]
        assert state["Running"] and state["StartedAt"] == self.started_at and info["RestartCount"] == 0, f"the canary container was disturbed: {state}"
        assert docker("network", "inspect", self.network, "--format", "{{.Name}}").strip() == self.network
        assert self.answers(), f"the canary container no longer answers on 127.0.0.1:{self.port}"

    def remove(self) -> None:
        docker("rm", "-f", self.id, check=False)
        docker("network", "rm", self.network, check=False)


def wait_until(condition, timeout: float = 90, what: str = "condition"):
    """``condition()``'s first true value, polled every half second; an AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def by_label(kind: str, project: str) -> list[str]:
    """IDs of ``kind`` objects (service, secret, config, volume, network, container) labelled with ``project``."""
    args = {"container": ["ps", "-a"], "volume": ["volume", "ls"]}.get(kind, [kind, "ls"])
    out = docker(*args, "--filter", f"label=omnitron.project={project}", "--format", "{{.Name}}" if kind == "volume" else "{{.ID}}", check=False)
    return sorted(line for line in out.splitlines() if line)


def remove_project(project: str) -> None:
    """Remove everything labelled with ``project`` (services first: their tasks hold the rest)."""
    for service in by_label("service", project):
        docker("service", "rm", service, check=False)
    for container in by_label("container", project):
        docker("rm", "-f", "-v", container, check=False)
    for kind in ("secret", "config", "volume", "network"):
        for name in by_label(kind, project):
            docker(kind, "rm", name, check=False)


def leftovers(project: str) -> dict[str, list[str]]:
    found = {kind: by_label(kind, project) for kind in ("service", "secret", "config", "volume", "network", "container")}
    return {kind: ids for kind, ids in found.items() if ids}


def service_inspect(project: str, stack: str, service: str) -> dict[str, Any]:
    ids = docker("service", "ls", "-q", "--filter", f"label=omnitron.project={project}", "--filter", f"label=omnitron.stack={stack}", "--filter", f"label=omnitron.service={service}").split()
    assert len(ids) == 1, f"expected one swarm service for {service}, found {ids}"
    return json.loads(docker("service", "inspect", ids[0]))[0]


def running_containers(project: str, service: str) -> list[str]:
    out = docker("ps", "-q", "--filter", f"label=omnitron.project={project}", "--filter", f"label=omnitron.service={service}", "--filter", "status=running")
    return out.split()


def omnitron(root: Path, *args: str, env: dict[str, str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The omnitron CLI, as a user runs it, in the project ``root``."""
    result = subprocess.run([*OMNITRON, *args], cwd=root, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"omnitron {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def write_project(root: Path, name: str, *, pg_port: int, redis_port: int, maxmemory: str = "64mb") -> None:
    """Postgres and Redis, two apps using both, a local and a cluster stack (the same declarations)."""
    (root / "omnitron.toml").write_text(
        f'project = "{name}"\n'
        '[[apps]]\nname = "orders"\n[[apps]]\nname = "inventory"\n'
        f'[infrastructure.services.db]\npreset = "postgres"\nconfig = {{image = "{POSTGRES_IMAGE}", port = {pg_port}}}\n'
        f'[infrastructure.services.cache]\npreset = "redis"\nconfig = {{image = "{REDIS_IMAGE}", port = {redis_port}, maxmemory = "{maxmemory}"}}\n'
        '[stacks.dev]\ntype = "local"\n'
        '[stacks.cluster]\ntype = "cluster"\nprovider = "swarm"\n'
    )
    for app in ("orders", "inventory"):
        config = root / "apps" / app / "config" / "default.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps({"omnitron": {"database": True, "redis": True}}))
