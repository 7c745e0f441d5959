"""The daemon as a process: one per project, noticed when killed, stopped by SIGTERM and by ``infra down``; the fast paths.

Real Docker containers (``sleep`` in the Debian test image, a Redis), the real CLI in subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from omnitron.daemon.control import lock_held
from omnitron.daemon.paths import files_of
from daemon_project import BASE_IMAGE, REDIS_IMAGE, DaemonProject, docker, sleeper, wait_for, require_engine

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]


@pytest.fixture(scope="module", autouse=True)
def engine():
    require_engine(REDIS_IMAGE, BASE_IMAGE)


@pytest.fixture
def project(tmp_path, omnitron_daemon):
    p = DaemonProject(tmp_path, {"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": sleeper()}, apps={"web": {"redis": True}})
    omnitron_daemon.watch(tmp_path)
    yield p
    p.cleanup()


def daemons_of(p: DaemonProject) -> list[int]:
    """Live daemon processes serving this project."""
    import psutil

    out = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        cmd = proc.info["cmdline"] or []
        if "omnitron.daemon" in cmd and str(p.root) in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE:
            out.append(proc.pid)
    return out


def answering(p: DaemonProject) -> bool:
    return json.loads(p.ok("daemon", "status", "--json") if p("daemon", "status").returncode == 0 else "{}").get("daemon") is not None


def test_two_starts_give_one_daemon(project):
    starts = [subprocess.Popen([sys.executable, "-c", "from omnitron.cli import run; run()", "daemon", "start", "--json"], env=project.env, cwd=project.root, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [json.loads(s.communicate(timeout=60)[0]) for s in starts]
    assert all(s.returncode == 0 for s in starts)
    assert outs[0]["pid"] == outs[1]["pid"]
    assert daemons_of(project) == [outs[0]["pid"]]
    assert "already running" in project.ok("daemon", "start")
    assert daemons_of(project) == [outs[0]["pid"]]


def test_sigkill_is_noticed_and_nothing_is_lost(project):
    project.ok("infra", "up")
    wait_for(lambda: answering(project), 30, "the daemon answering")
    pid = project.daemon_pid()
    before = project.events()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not lock_held(files_of(project.root)), 10, "the killed daemon's lock released")
    status = project("daemon", "status")
    assert status.returncode == 3 and f"pid {pid} stopped without cleaning up" in status.stdout
    state = json.loads(project.ok("infra", "status", "--json"))  # works without it
    assert state["ready"] is True
    assert project.events()[: len(before)] == before
    up = project.ok("infra", "up")
    assert f"the previous daemon (pid {pid}) had stopped without cleaning up" in up
    assert project.daemon_pid() not in (None, pid)
    after = project.last_id()
    docker("stop", "-t", "1", project.container("worker"))
    project.wait_event("start", "worker", after=after, timeout=20)
    project.wait_event("ready", "worker", after=after, timeout=20)


def test_sigterm_stops_it_within_5_seconds(project):
    project.ok("infra", "up")
    wait_for(lambda: answering(project), 30, "the daemon answering")
    files = files_of(project.root)
    pid = project.daemon_pid()
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not lock_held(files), 10, "the daemon gone", every=0.02)
    assert time.monotonic() - started < 5.0
    assert not files.socket.exists() and not files.pid.exists()
    assert "stopped" in files.log.read_text()


def test_down_stops_the_daemon_and_no_daemon_is_left(project):
    project.ok("infra", "up")
    wait_for(lambda: daemons_of(project), 20, "a daemon process")
    out = project.ok("infra", "down")
    assert "daemon: stopped" in out
    assert daemons_of(project) == []
    assert not files_of(project.root).socket.exists()


def test_no_daemon_when_asked(project):
    assert "daemon:" not in project.ok("infra", "up", "--no-daemon")
    assert daemons_of(project) == []
    project.write({"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": sleeper()}, apps={"web": {"redis": True}}, daemon=False)
    assert "daemon:" not in project.ok("infra", "up")
    assert daemons_of(project) == []
    assert "daemon:" not in project.ok("infra", "up", env={"OMNITRON_DAEMON": "off"})


def _imported(p: DaemonProject, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the CLI with ``-X importtime``: what it printed, and the modules it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, env=p.env, cwd=p.root, timeout=120)
    return result, result.stderr


def test_fast_paths_answer_through_the_daemon(project):
    # passes only when asked (or hourly), so drift stays until a command sees it
    project.write({"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": sleeper()}, apps={"web": {"redis": True}}, reconcileInterval="1h")
    project.ok("infra", "up")
    wait_for(lambda: answering(project), 30, "the daemon answering")
    wait_for(lambda: json.loads(project.ok("infra", "status", "--json"))["lastReconciled"], 10, "a pass")
    status, imported = _imported(project, "infra", "status", "--json")
    assert status.returncode == 0 and "cyclopts" not in imported and "pydantic" not in imported and "aiohttp" not in imported
    fast = json.loads(status.stdout)
    slow = json.loads(project.ok("infra", "status", "--json", env={"OMNITRON_DAEMON": "off"}))
    assert set(fast) == set(slow) == {"services", "ready", "lastReconciled", "allocations"}
    assert {n: (s["status"], s["health"], s["containerId"]) for n, s in fast["services"].items()} == {n: (s["status"], s["health"], s["containerId"]) for n, s in slow["services"].items()}
    up, imported = _imported(project, "infra", "up")
    assert up.returncode == 0 and "up to date (checked by the daemon" in up.stdout and "cyclopts" not in imported
    run, imported = _imported(project, "run", "web", "--", sys.executable, "-c", "import os; print(os.environ['REDIS_URL'])")
    assert run.returncode == 0 and run.stdout.startswith("redis://") and "cyclopts" not in imported and "redis" not in imported.replace("redis://", "")
    endpoints = json.loads(project.ok("infra", "endpoints", "--json"))["endpoints"]
    assert [(e["app"], e["service"], e["env"], e["state"]) for e in endpoints] == [("web", "cache", ["REDIS_URL"], "live")]
    # a changed config file: the fast path steps aside and the full command runs
    config = project.root / "omnitron.config.py"
    config.write_text(config.read_text() + "\n# changed\n")
    up = project.ok("infra", "up")
    assert "checked by the daemon" not in up and "ready:" in up
    # drift the daemon has not repaired yet: not "up to date"; the full command repairs it
    project.ok("infra", "reconcile")  # the daemon's plan catches up with the changed file
    wait_for(lambda: "checked by the daemon" in project.ok("infra", "up"), 20, "the daemon's plan caught up")
    docker("stop", "-t", "1", project.container("worker"))
    up = project.ok("infra", "up")
    assert "checked by the daemon" not in up and "ready: 2 services" in up
    assert "checked by the daemon" in project.ok("infra", "up")


def test_up_through_the_daemon_checks_a_server_omnitron_does_not_run(project):
    """The passes do not watch an external server, so the daemon never calls a stack with one up to date: up checks it."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        search = {"ports": {"http": 9200}, "healthCheck": {"tcp": {"port": "http"}, "timeout": "200ms"}, "startupTimeout": "1s", "docker": {"image": BASE_IMAGE}}
        project.write({"worker": sleeper(), "search": search}, apps={}, overrides={"search": {"external": {"host": "127.0.0.1", "ports": {"http": server.getsockname()[1]}}}})
        project.ok("infra", "up")
        wait_for(lambda: answering(project), 30, "the daemon answering")
        project.ok("infra", "reconcile")
    up = project("infra", "up")  # the server is gone
    assert up.returncode == 1 and "checked by the daemon" not in up.stdout, up.stdout + up.stderr
    assert "service search did not become healthy" in up.stdout + up.stderr


def test_sigterm_stops_it_within_5_seconds_in_the_middle_of_a_repair(project):
    """A repair waiting for a service that never becomes healthy (a 60 s startupTimeout) does not hold the daemon up."""
    stuck = {"docker": {"image": BASE_IMAGE, "command": sleeper()["docker"]["command"]}, "healthCheck": {"command": {"exec": ["false"]}, "timeout": "1s"}, "startupTimeout": "60s"}
    project.write({"worker": sleeper()}, apps={})
    project.ok("infra", "up")
    wait_for(lambda: answering(project), 30, "the daemon answering")
    after = project.last_id()
    project.write({"worker": sleeper(), "stuck": stuck}, apps={})
    project.wait_event("create", "stuck", after=after, timeout=30)
    time.sleep(2)  # the repair now waits for its health
    files = files_of(project.root)
    started = time.monotonic()
    os.kill(project.daemon_pid(), signal.SIGTERM)
    wait_for(lambda: not lock_held(files), 10, "the daemon gone", every=0.02)
    assert time.monotonic() - started < 5.0
    assert not files.socket.exists()
