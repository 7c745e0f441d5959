"""A copy of examples/shop with its own project name, ports and secret key, driven through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from omnitron.testing import free_port_offset

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_IMAGE = "omnitron-test/postgres:15"
REDIS_IMAGE = "omnitron-test/redis:7"
MINIO_IMAGE = "omnitron-test/minio:RELEASE.2025-04-22T22-12-26Z"
BASE_IMAGE = "omnitron-test/debian:bookworm"


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def labelled(kind: str, project: str) -> list[str]:
    """Containers or volumes carrying ``omnitron.project=<project>``."""
    args = {"container": ["ps", "-a", "--format", "{{.Names}}"], "volume": ["volume", "ls", "--format", "{{.Name}}"]}[kind]
    return sorted(filter(None, docker(*args[:-2], "--filter", f"label=omnitron.project={project}", *args[-2:]).splitlines()))


def require_docker() -> None:
    """Skip (fail where every server is required) when no Docker engine answers."""
    from omnitron.testing import unavailable

    if subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode != 0:
        unavailable("no Docker engine answers (start one with .ci/docker-up.sh)")


def remove_labelled(project: str) -> None:
    """Remove every container and volume labelled with ``project`` (with the docker CLI, whatever the code under test left)."""
    for name in labelled("container", project):
        docker("rm", "-f", name, check=False)
    for name in labelled("volume", project):
        docker("volume", "rm", "-f", name, check=False)


class Shop:
    """A copy of examples/shop with its own project name, ports and secret key."""

    def __init__(self, root: Path, extra_services: dict | None = None, extra_app: dict | None = None, *, provider: str = "docker") -> None:
        self.provider = provider
        self.root = root
        self.project = f"shop{uuid.uuid4().hex[:8]}"
        shutil.copytree(ROOT / "examples" / "shop" / "apps", root / "apps")
        # below the ephemeral range: an outgoing connection's local end must not hold a service's port
        self.offset = free_port_offset([5432, 6379, 9000, 9001], lowest=2000)
        services = {
            "db": {"preset": "postgres", "config": {"image": POSTGRES_IMAGE, "extensions": ["pgcrypto"]}},
            "cache": {"preset": "redis", "config": {"image": REDIS_IMAGE, "maxmemory": "64mb"}},
            "storage": {"preset": "minio", "config": {"image": MINIO_IMAGE, "quota": "1gb"}},
            **(extra_services or {}),
        }
        apps = [{"name": "orders", "command": ["python", "main.py"]}, {"name": "inventory", "command": ["python", "main.py"]}]
        if extra_app:
            apps.append(extra_app["ref"])
            cfg = root / "apps" / extra_app["ref"]["name"] / "config"
            cfg.mkdir(parents=True)
            (cfg / "default.json").write_text(json.dumps({"omnitron": extra_app["omnitron"]}))
        eco = {"project": self.project, "apps": apps, "infrastructure": {"services": services}, "stacks": {"dev": {"portOffsets": self.offset, "provider": provider}}}
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root)}
        self.env.pop("OMNITRON_PLUGINS", None)
        # the apps' command is `python main.py`: the interpreter running the tests, with their drivers
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

    def __call__(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, env=self.env, cwd=self.root, timeout=timeout)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def cleanup(self) -> None:
        self("infra", "down", "--volumes")
        if self.provider == "docker":
            remove_labelled(self.project)
