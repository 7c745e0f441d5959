"""A small project (Postgres ``db``, Redis ``cache``, an app using both) driven through the real ``omnitron`` CLI,
on either provider, with helpers to kill a running command and to look at what runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from omnitron.testing import free_port_offset

from shop_project import POSTGRES_IMAGE, REDIS_IMAGE, remove_labelled

OMNITRON = [sys.executable, "-c", "from omnitron.cli import run; run()"]


class Project:
    """``db`` (postgres) + ``cache`` (redis) + app ``web`` (``database: true``, ``redis: true``) on one provider."""

    def __init__(self, root: Path, provider: str, *, cache_config: dict | None = None, extra_services: dict | None = None) -> None:
        self.root = root
        self.provider = provider
        self.name = f"hard{uuid.uuid4().hex[:8]}"
        offset = free_port_offset([5432, 6379])
        services = {
            "db": {"preset": "postgres", "config": {"image": POSTGRES_IMAGE}, "startupTimeout": 60_000},
            "cache": {"preset": "redis", "config": {"image": REDIS_IMAGE, **(cache_config or {})}, "startupTimeout": 60_000},
            **(extra_services or {}),
        }
        eco = {
            "project": self.name,
            "apps": [{"name": "web"}],
            "infrastructure": {"services": services},
            "stacks": {"dev": {"portOffsets": offset, "provider": provider}},
        }
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        (root / "apps/web/config").mkdir(parents=True)
        (root / "apps/web/config/default.json").write_text(json.dumps({"omnitron": {"database": True, "redis": True}}))
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root)}
        for name in ("OMNITRON_PLUGINS", "OMNITRON_PROCESS_CACHE"):
            self.env.pop(name, None)

    def __call__(self, *args: str, timeout: float = 240, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*OMNITRON, *args], capture_output=True, text=True, env={**self.env, **(env or {})}, cwd=self.root, timeout=timeout, stdin=subprocess.DEVNULL)

    def ok(self, *args: str, **kwargs) -> str:
        result = self(*args, **kwargs)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """``omnitron ARGS`` running, its stdout a pipe read line by line (plain progress lines)."""
        return subprocess.Popen(
            [*OMNITRON, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**self.env, **(env or {})},
            cwd=self.root, stdin=subprocess.DEVNULL, bufsize=1,
        )

    def web_env(self) -> dict[str, str]:
        return json.loads(self.ok("infra", "env", "web", "--format", "json", "--show-secrets"))

    def readiness(self) -> dict[str, dict]:
        from omnitron.state import StateStore

        with StateStore(self.root / ".omnitron") as state:
            return state.readiness("dev")

    def data_dir(self, service: str) -> Path:
        from omnitron.state import StateStore

        with StateStore(self.root / ".omnitron") as state:
            rec = state.get_record("dev", "process", service)
        return Path(rec["data_dir"])

    def cleanup(self) -> None:
        self("infra", "down", "--volumes")
        if self.provider == "docker":
            remove_labelled(self.name)


def kill_when(proc: subprocess.Popen, pattern: str | None = None, *, after: float | None = None, sig: int = signal.SIGKILL, limit: float = 120) -> list[str]:
    """Send ``sig`` to ``proc`` when a line holding ``pattern`` appears, or ``after`` seconds; the lines read up to then."""
    import selectors

    lines: list[str] = []
    started = time.monotonic()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None
    sel.register(proc.stdout, selectors.EVENT_READ)
    while True:
        now = time.monotonic() - started
        if after is not None and now >= after:
            break
        if now > limit:
            raise AssertionError(f"no line with {pattern!r} within {limit}s: {lines[-5:]}")
        wait = 0.05 if after is None else max(0.0, min(0.05, after - now))
        if sel.select(wait):
            line = proc.stdout.readline()
            if not line:
                break  # it finished first
            lines.append(line.rstrip("\n"))
            if pattern is not None and pattern in line:
                break
    if proc.poll() is None:
        proc.send_signal(sig)
    return lines


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    """Wait for ``proc``; its exit code and the rest of its output."""
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out or ""


def processes_with_cwd(directory: Path) -> list[int]:
    """Live processes whose working directory is ``directory`` (a native service runs in its data directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "cwd") != str(directory):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        return []
