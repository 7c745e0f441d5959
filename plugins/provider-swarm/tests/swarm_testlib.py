"""Helpers of the swarm provider's tests: the docker CLI, the omnitron CLI, a swarm the tests start and leave."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

POSTGRES_IMAGE = "omnitron-test/postgres:15"
REDIS_IMAGE = "omnitron-test/redis:7"
TEST_IMAGES = (POSTGRES_IMAGE, REDIS_IMAGE)
OMNITRON = [str(Path(sys.executable).parent / "omnitron")]
GWBRIDGE = "docker_gwbridge"


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
