"""What the daemon streams and writes: events followed over its socket and by ``infra events -f``, its rotated log.

The API is the daemon's own aiohttp application on a real unix socket; the
command line runs as a subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import anyio
import pytest

from omnitron.daemon import server, wire
from omnitron.daemon.paths import files_of
from omnitron.state import StateStore

pytestmark = pytest.mark.usefixtures("omnitron_isolated")


def _record(root, action: str) -> None:
    with StateStore(files_of(root).state_dir) as state:
        state.record_event("dev", "db", action, f"because {action}")


@pytest.mark.anyio
async def test_events_are_followed_over_the_socket(tmp_path):
    from aiohttp import web

    from omnitron.daemon.api import make_app
    from omnitron.daemon.keeping import Daemon
    from omnitron.plugins import PluginManager

    _record(tmp_path, "create")
    runner = web.AppRunner(make_app(Daemon(tmp_path, PluginManager())))
    await runner.setup()
    sock = files_of(tmp_path).socket
    await web.UnixSite(runner, str(sock)).start()
    seen: list[dict] = []

    def follow() -> None:
        for line in wire.stream_lines(sock, "/events?stack=dev&follow=true", timeout=20):
            seen.append(json.loads(line))
            if len(seen) == 2:
                return

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, follow)
            with anyio.fail_after(20):
                while not seen:
                    await anyio.sleep(0.05)
                _record(tmp_path, "ready")  # recorded after the stream opened: it arrives on it
                while len(seen) < 2:
                    await anyio.sleep(0.05)
            with anyio.fail_after(10):  # the client went away: the followed stream ends, not at the next event
                while runner.server.connections:
                    await anyio.sleep(0.05)
    finally:
        await runner.cleanup()
    assert [(e["service"], e["action"], e["reason"]) for e in seen] == [("db", "create", "because create"), ("db", "ready", "because ready")]
    assert seen[0]["id"] < seen[1]["id"]


def test_infra_events_follow_prints_new_events_as_they_come(omnitron_project):
    project = omnitron_project.write({"project": "shop", "infrastructure": {"services": {}}})
    _record(project.root, "create")
    cmd = [sys.executable, "-c", "from omnitron.cli import run; run()", "infra", "events", "-f", "--json"]
    child = subprocess.Popen(cmd, cwd=project.root, env={**os.environ, "OMNITRON_PROJECT": str(project.root)}, stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(child.stdout.readline())
        _record(project.root, "start")
        second = json.loads(child.stdout.readline())
        assert child.poll() is None  # still following
    finally:
        child.terminate()
        child.wait(timeout=10)
        child.stdout.close()
    assert (first["action"], second["action"]) == ("create", "start")
    assert second["id"] > first["id"]


def test_the_daemon_log_is_rotated(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "LOG_BYTES", 2_000)
    files = files_of(tmp_path)
    server.setup_logging(files, foreground=False)
    log = logging.getLogger("omnitron.daemon")
    try:
        for i in range(200):
            log.info("line %d %s", i, "x" * 40)
    finally:
        for handler in log.handlers:
            handler.close()
        log.handlers[:] = []
        log.propagate = True
    logs = sorted(p.name for p in files.state_dir.iterdir() if p.name.startswith("daemon.log"))
    assert logs == ["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]
    assert all((files.state_dir / name).stat().st_size <= 2_000 for name in logs)
    assert files.log.stat().st_mode & 0o777 == 0o600
    assert "line 199" in files.log.read_text()


@pytest.mark.anyio
async def test_the_reconcile_loop_goes_on_after_a_failed_tick(tmp_path, caplog):
    import sqlite3
    import types

    from omnitron.daemon.keeping import Daemon
    from omnitron.plugins import PluginManager

    (tmp_path / "omnitron.toml").write_text('project = "shop"\n')
    daemon = Daemon(tmp_path, PluginManager())
    calls: list[float] = []

    def flaky() -> list:
        calls.append(1.0)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return []

    daemon.sync_keepers = flaky  # type: ignore[method-assign]
    async with anyio.create_task_group() as tg:
        tg.start_soon(daemon.loop, types.SimpleNamespace(update=lambda keepers: None))
        with anyio.fail_after(10):
            while len(calls) < 2:
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    assert "the reconcile loop failed" in caplog.text and "database is locked" in caplog.text
