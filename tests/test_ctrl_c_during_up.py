"""Ctrl-C (SIGINT) during a real ``omnitron infra up``: it says which services were interrupted in which phase and
what is left running, exits 130, and the next ``up`` converges; a second SIGINT exits at once."""

from __future__ import annotations

import signal
import time

import pytest

from harden_testlib import Project, finish, kill_when

pytestmark = pytest.mark.installed_plugins


@pytest.fixture
def project(tmp_path):
    p = Project(tmp_path, "process")
    yield p
    p.cleanup()


def test_sigint_reports_and_the_next_up_converges(project):
    proc = project.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": "off"})
    kill_when(proc, "db: starting (pid", sig=signal.SIGINT)
    code, out = finish(proc)
    assert code == 130, out
    assert "interrupted: " in out and "db while" in out, out
    assert "left running: " in out, out
    assert "Traceback" not in out
    assert "ready: 2 services" in project.ok("infra", "up")
    assert {n: r["phase"] for n, r in project.readiness().items()} == {"db": "ready", "cache": "ready"}


def test_a_second_sigint_exits_at_once(project):
    proc = project.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": "off"})
    kill_when(proc, "db: starting (pid", sig=signal.SIGINT)
    time.sleep(0.05)
    sent = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    code, out = finish(proc, timeout=10)
    assert code == 130, out
    assert time.monotonic() - sent < 3, out
    assert "Traceback" not in out
    assert "ready: 2 services" in project.ok("infra", "up")
