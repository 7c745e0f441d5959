"""A project for daemon tests: its own name, ports and secret key, the daemon switched on, driven through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shop_project import BASE_IMAGE, REDIS_IMAGE  # noqa: F401  (for the daemon tests)
from shop_project import docker as _docker


def docker(*args: str, check: bool = True) -> str:
    return _docker(*args, check=check).strip()


def require_engine(*images: str) -> None:
    """Skip (fail in CI) when no Docker engine answers or a test image is missing."""
    import shutil

    from omnitron.testing import unavailable

    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers: run .ci/docker-up.sh")
    for image in images:
        if not docker("images", "-q", image):
            unavailable(f"test image {image} is missing: run .ci/build-images.sh")


SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
"""``sleep`` that stops at once on SIGTERM (as PID 1 a bare ``sleep`` ignores it, and ``docker stop`` waits its timeout)."""


def sleeper(**extra: Any) -> dict[str, Any]:
    """A tiny container service that runs ``sleep`` (no ports; healthy once running)."""
    return {"docker": {"image": BASE_IMAGE, "command": SLEEP}, **extra}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(every)


DEFAULT_PORTS = (5432, 6379, 3306, 9000, 9001, 8080)
"""The presets' default ports: a stack's offset is chosen so that none of them is taken (others run tests at the same time)."""


def free_offset() -> int:
    """A ``portOffsets`` value under which every preset's default port is free on 127.0.0.1 now (and below the ephemeral range)."""
    from omnitron.testing import free_port_offset

    return free_port_offset(DEFAULT_PORTS, lowest=2000)


class DaemonProject:
    """``omnitron.config.py`` with ``reconcileInterval`` 1 s, written from a dict; ``project(...)`` runs the CLI in it."""

    def __init__(self, root: Path, services: dict[str, Any], *, apps: dict[str, dict[str, Any]] | None = None, provider: str = "docker", **eco: Any) -> None:
        self.root = root
        self.name = f"dmn{uuid.uuid4().hex[:8]}"
        self.provider = provider
        self.offset = free_offset()
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root), "OMNITRON_DAEMON": "on"}
        self.env.pop("OMNITRON_PLUGINS", None)
        self.write(services, apps=apps, **eco)

    def write(self, services: dict[str, Any], *, apps: dict[str, dict[str, Any]] | None = None, overrides: dict[str, Any] | None = None, **eco: Any) -> None:
        apps = apps or {}
        for app, config in apps.items():
            cfg = self.root / "apps" / app / "config" / "default.json"
            cfg.parent.mkdir(parents=True, exist_ok=True)
            cfg.write_text(json.dumps({"omnitron": config}))
        data = {
            "project": self.name, "reconcileInterval": "1s", "reconcileBackoff": "1s", **eco,
            "apps": [{"name": a} for a in apps], "infrastructure": {"services": services},
            "stacks": {"dev": {"portOffsets": self.offset, "provider": self.provider, "serviceOverrides": overrides or {}}},
        }
        path = self.root / "omnitron.config.py"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({data!r})\n")
        tmp.replace(path)

    def __call__(self, *args: str, timeout: float = 240, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, env={**self.env, **(env or {})}, cwd=self.root, timeout=timeout)

    def ok(self, *args: str, **kwargs: Any) -> str:
        result = self(*args, **kwargs)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def events(self) -> list[dict[str, Any]]:
        return json.loads(self.ok("infra", "events", "--json", env={"OMNITRON_DAEMON": "off"}))

    def wait_event(self, action: str, service: str | None = None, *, after: int = 0, timeout: float = 20.0, count: int = 1) -> list[dict[str, Any]]:
        """Wait until ``count`` events of ``action`` (for ``service``) with an id above ``after`` are recorded; returns them."""

        def found() -> list[dict[str, Any]] | None:
            hits = [e for e in self.events() if e["action"] == action and e["id"] > after and (service is None or e["service"] == service)]
            return hits if len(hits) >= count else None

        return wait_for(found, timeout, f"{count} {action!r} event(s) for {service or 'the stack'}; events: {[(e['service'], e['action']) for e in self.events()]}", every=0.2)

    def last_id(self) -> int:
        events = self.events()
        return events[-1]["id"] if events else 0

    def container(self, service: str) -> str:
        return f"omnitron-{self.name}-dev-{service}"

    def daemon_pid(self) -> int | None:
        try:
            return int((self.root / ".omnitron" / "daemon.pid").read_text())
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        self("daemon", "stop")
        self("infra", "down", "--volumes", env={"OMNITRON_DAEMON": "off"})
        self("daemon", "stop")
        for name in filter(None, docker("ps", "-aq", "--filter", f"label=omnitron.project={self.name}", check=False).splitlines()):
            docker("rm", "-f", name, check=False)
        for name in filter(None, docker("volume", "ls", "-q", "--filter", f"label=omnitron.project={self.name}", check=False).splitlines()):
            docker("volume", "rm", "-f", name, check=False)
