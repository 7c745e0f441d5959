"""Ctrl-C (SIGINT) during a real ``omnitron infra up``: it says which services were interrupted in which phase and
what is left running, exits 130, and the next ``up`` converges (on both providers); a second SIGINT exits at once."""

from __future__ import annotations

import signal
import time

import pytest

from harden_testlib import Project, finish, kill_when

pytestmark = pytest.mark.installed_plugins


@pytest.fixture
def native(tmp_path):
    p = Project(tmp_path, "process")
    yield p
    p.cleanup()


def test_sigint_reports_and_the_next_up_converges(project):
    """Interrupted right after the Postgres server (a process, or a container) was started, before it was prepared."""
    pattern = "db: starting (pid" if project.provider == "process" else "db: starting (container"
    proc = project.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": "off"})
    kill_when(proc, pattern, sig=signal.SIGINT)
    code, out = finish(proc)
    assert code == 130, out
    assert "interrupted: " in out and "db while" in out, out
    assert "left running: " in out, out
    assert "Traceback" not in out
    assert project.readiness().get("db", {}).get("phase") != "ready", out
    assert "ready: 2 services" in project.ok("infra", "up")
    assert {n: r["phase"] for n, r in project.readiness().items()} == {"db": "ready", "cache": "ready"}


def test_a_second_sigint_exits_at_once(native):
    """The first SIGINT is acknowledged at once; a second one sent while the first is being tidied up (the
    half-started server stopped, what is left running looked up) ends the process there and then."""
    landed = 0
    for _ in range(3):  # the tidying up may end before the second signal lands: then try again
        proc = native.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": "off"})
        kill_when(proc, "db: starting (pid", sig=signal.SIGINT)
        seen = kill_when(proc, "Ctrl-C again to exit at once", sig=signal.SIGINT, limit=10)
        sent = time.monotonic()
        code, rest = finish(proc, timeout=10)
        out = "\n".join([*seen, rest])
        assert code == 130, out
        assert "Traceback" not in out
        if "interrupted again: exiting now" in out:
            landed += 1
            assert time.monotonic() - sent < 1.0, out
            assert "left running" not in out, out  # it did not wait for the report
            break
        assert "left running: " in out, out  # finished before the second one: the first's report
        native.ok("infra", "down")
    assert landed == 1
    assert "ready: 2 services" in native.ok("infra", "up")
