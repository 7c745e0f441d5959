"""The daemon with the process provider: a native PostgreSQL and a native Redis killed with SIGKILL are started again within an interval.

The servers are the machine's own binaries (``scripts/setup-system`` installs
them), run by the process provider as supervised native processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal

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
