"""The daemon with the process provider: a native PostgreSQL and a native Redis killed with SIGKILL are started again within an interval.

The servers are the machine's own binaries (``scripts/setup-system`` installs
them), run by the process provider as supervised native processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from omnitron.testing import unavailable

from daemon_project import DaemonProject, wait_for

pytestmark = pytest.mark.installed_plugins


@pytest.fixture
def native(tmp_path, omnitron_daemon):
    if shutil.which("redis-server") is None or not any(os.path.exists(f"/usr/lib/postgresql/{v}/bin/postgres") for v in (15, 16, 17)) and shutil.which("postgres") is None:
        unavailable("native redis-server and postgres are needed: run scripts/setup-system")
    omnitron_daemon.watch(tmp_path)
    p = DaemonProject(tmp_path, {"db": {"preset": "postgres"}, "cache": {"preset": "redis"}}, apps={"web": {"database": True, "redis": True}}, provider="process")
    yield p
    p.cleanup()


def pid_of(p: DaemonProject, service: str) -> int:
    state = json.loads(p.ok("infra", "status", "--json"))["services"][service]
    assert state["status"] == "running" and state["provider"] == "process", state
    return int(state["containerId"])


@pytest.mark.parametrize("service", ["db", "cache"])
def test_a_killed_native_server_is_started_again(native, service):
    native.ok("infra", "up")
    pid = pid_of(native, service)
    after = native.last_id()
    os.kill(pid, signal.SIGKILL)
    [event] = native.wait_event("start", service, after=after, timeout=30)
    assert "exited" in event["reason"]
    native.wait_event("ready", service, after=after, timeout=60)
    wait_for(lambda: json.loads(native.ok("infra", "status", "--json"))["ready"], 30, "the stack ready again")
    assert pid_of(native, service) != pid
    out = native.ok("run", "web", "--", "sh", "-c", "echo $DATABASE_URL $REDIS_URL")
    assert "postgres" in out and "redis://" in out


def native_sleep(seconds: int, **extra) -> dict:
    """A custom native service (``sleep``) the process provider runs; healthy once running."""
    return {"type": "daemon", "process": {"command": ["sleep", str(seconds)]}, **extra}


@pytest.fixture
def natives(tmp_path, omnitron_daemon):
    if shutil.which("redis-server") is None:
        unavailable("native redis-server is needed: run scripts/setup-system")
    omnitron_daemon.watch(tmp_path)
    p = DaemonProject(tmp_path, {"cache": {"preset": "redis"}, "worker": native_sleep(10_000, dependsOn=["cache"])}, apps={"web": {"redis": True}}, provider="process")
    yield p
    p.cleanup()


def test_a_changed_config_and_a_rename_are_reconciled_natively(natives):
    natives.ok("infra", "up")
    before = pid_of(natives, "worker")
    cache = pid_of(natives, "cache")
    after = natives.last_id()
    natives.write({"cache": {"preset": "redis"}, "worker": native_sleep(20_000, dependsOn=["cache"])}, apps={"web": {"redis": True}})
    [event] = natives.wait_event("recreate", "worker", after=after, timeout=30)
    assert "spec hash changed" in event["reason"]
    natives.wait_event("ready", "worker", after=after, timeout=30)
    recreated = pid_of(natives, "worker")
    assert recreated != before and "20000" in Path(f"/proc/{recreated}/cmdline").read_text().split("\0")
    assert pid_of(natives, "cache") == cache  # untouched
    after = natives.last_id()
    natives.write({"cache": {"preset": "redis"}, "worker2": native_sleep(10_000, dependsOn=["cache"])}, apps={"web": {"redis": True}})
    natives.wait_event("remove-orphan", "worker", after=after, timeout=30)
    natives.wait_event("ready", "worker2", after=after, timeout=30)
    wait_for(lambda: not os.path.exists(f"/proc/{recreated}") or Path(f"/proc/{recreated}/stat").read_text().split()[2] == "Z", 10, "the orphan's process gone")
    state = json.loads(natives.ok("infra", "status", "--json"))
    assert set(state["services"]) == {"cache", "worker2"} and state["ready"]
