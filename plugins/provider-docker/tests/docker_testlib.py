"""Helpers of the docker provider's tests: the docker CLI, throwaway projects, rendered specs."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from omnitron.api import Plan, PlannedService, ProviderContext, RuntimeSpec
from omnitron.testing import PluginManager, Project, render_runtime_spec

from omnitron_provider_docker import DockerProvider

POSTGRES_IMAGE = "omnitron-test/postgres:15"
REDIS_IMAGE = "omnitron-test/redis:7"
BASE_IMAGE = "omnitron-test/debian:bookworm"
TEST_IMAGES = (POSTGRES_IMAGE, REDIS_IMAGE, BASE_IMAGE)
PASSWORD = "pw-Test_123"

_engine: dict[str, bool] = {}


def engine_answers() -> bool:
    if "ok" not in _engine:
        _engine["ok"] = anyio.run(DockerProvider.available)
    return _engine["ok"]


def docker_cli(*args: str, check: bool = True) -> str:
    """Run the docker CLI and return its stdout."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def inspect(kind: str, name: str) -> dict[str, Any]:
    """``docker <kind> inspect NAME`` as a dict."""
    return json.loads(docker_cli(kind, "inspect", name))[0]


def by_label(kind: str, project: str) -> list[str]:
    """Names of containers/volumes/networks labelled with ``project``."""
    args = {"container": ["ps", "-a"], "volume": ["volume", "ls"], "network": ["network", "ls"]}[kind]
    out = docker_cli(*args, "--filter", f"label=omnitron.project={project}", "--format", "{{.Names}}" if kind == "container" else "{{.Name}}")
    return sorted(line for line in out.splitlines() if line)


def remove_project(project: str) -> None:
    """Remove every container, volume and network labelled with ``project``."""
    containers = by_label("container", project)
    if containers:
        docker_cli("rm", "-f", "-v", *containers, check=False)
    volumes = by_label("volume", project)
    if volumes:
        docker_cli("volume", "rm", "-f", *volumes, check=False)
    networks = by_label("network", project)
    if networks:
        docker_cli("network", "rm", *networks, check=False)


def plugins() -> PluginManager:
    """The plugins these tests need, registered explicitly (other installed plugins stay out)."""
    import omnitron_postgres.plugin
    import omnitron_redis.plugin

    import omnitron_provider_docker.plugin

    pm = PluginManager(load_entrypoints=False)
    pm.register(omnitron_postgres.plugin, name="postgres")
    pm.register(omnitron_redis.plugin, name="redis")
    pm.register(omnitron_provider_docker.plugin, name="docker")
    return pm




@dataclass
class Sandbox:
    """A throwaway omnitron project (unique name) in a temporary directory."""

    root: Path
    name: str
    events: list[tuple[str, str, str]] = field(default_factory=list)

    def write(self, body: str) -> None:
        """Write ``omnitron.toml``: ``project = NAME`` followed by ``body``."""
        (self.root / "omnitron.toml").write_text(f'project = "{self.name}"\n{body}')

    def project(self) -> Project:
        return Project(self.root / "omnitron.toml", plugins=plugins())

    def plan(self) -> Plan:
        return self.project().plan(provider="docker")

    def service(self, name: str) -> PlannedService:
        return self.plan().service(name)

    def spec(self, svc: PlannedService | str, *, password: str = PASSWORD) -> RuntimeSpec:
        """The runtime spec: the container's env and command rendered, every secret being ``password``."""
        if isinstance(svc, str):
            svc = self.service(svc)
        assert svc.docker is not None
        return render_runtime_spec(svc, plugins(), lambda key: password)

    def context(self, stack: str = "dev") -> ProviderContext:
        return ProviderContext(
            project=self.name,
            stack=stack,
            project_dir=self.root,
            state_dir=self.root / ".omnitron" / "stacks" / stack,
            progress=lambda service, phase, detail: self.events.append((service, phase, detail)),
        )


def postgres_toml(port: int, *, settings: str = "") -> str:
    extra = f", settings = {{{settings}}}" if settings else ""
    return f'[infrastructure.services.db]\npreset = "postgres"\nconfig = {{image = "{POSTGRES_IMAGE}", port = {port}{extra}}}\n'


def redis_toml(port: int) -> str:
    return f'[infrastructure.services.cache]\npreset = "redis"\nconfig = {{image = "{REDIS_IMAGE}", port = {port}}}\n'
