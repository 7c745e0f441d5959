"""``infra up`` killed with SIGKILL at any moment converges on the next ``up``, on both providers.

Killed right after ``db: starting (...)`` (before the Postgres password is set), and at random delays over a
cold start (half of them without the initialised-template cache, so ``initdb`` itself is interrupted): the next
``up`` ends ready, with one server per service (no duplicate), a complete data directory, the password working,
and the state store saying ``ready`` only then. ``OMNITRON_CRASH_RUNS`` sets the number of random kills per
provider: 5 by default (a quick look), 20 in the whole suite (``scripts/test``, which CI runs), about 10 s each.
``OMNITRON_CRASH_SEED`` repeats the kill moments of an earlier run (each run prints its seed).
"""

from __future__ import annotations

import os
import random
import signal
import time

import psycopg
import pytest
import redis

from harden_testlib import Project, cmdline, finish, kill_when, processes_with_cwd
from shop_project import labelled

pytestmark = pytest.mark.installed_plugins

RUNS = int(os.environ.get("OMNITRON_CRASH_RUNS", "5"))
SEED = int(os.environ.get("OMNITRON_CRASH_SEED", str(random.randrange(1 << 30))))


def converged(p: Project, what: str) -> None:
    """The next ``up`` ends ready, and everything is as a clean ``up`` leaves it."""
    out = p.ok("infra", "up", timeout=180)
    assert "ready: 2 services" in out, f"{what}: {out}"
    env = p.web_env()
    with psycopg.connect(env["DATABASE_URL"], connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,), what
    client = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=10)
    try:
        assert client.ping() is True, what
    finally:
        client.close()
    assert {name: r["phase"] for name, r in p.readiness().items()} == {"db": "ready", "cache": "ready"}, what
    if p.provider == "process":
        for service in ("db", "cache"):
            data = p.data_dir(service)
            mains = [pid for pid in processes_with_cwd(data) if "-D" in cmdline(pid) or service == "cache"]
            assert len(mains) == 1, f"{what}: {service}: {len(mains)} servers in {data}"
            assert not list(data.parent.glob(f".{data.name}.init-*")), f"{what}: an abandoned initialisation is left"
        db = p.data_dir("db")
        assert (db / "PG_VERSION").is_file() and (db / "global" / "pg_control").is_file(), what
    else:
        containers = labelled("container", p.name)
        assert len(containers) == 2, f"{what}: {containers}"


def cold_start_seconds(p: Project) -> float:
    started = time.monotonic()
    p.ok("infra", "up", env={"OMNITRON_PROCESS_CACHE": "off"})
    took = time.monotonic() - started
    p.ok("infra", "down", "--volumes")
    return took


def test_killed_right_after_the_server_started(project):
    """The kill lands after the server was spawned and before it was prepared (its password set)."""
    pattern = "db: starting (pid" if project.provider == "process" else "db: starting (container"
    for cache in ("on", "off"):
        proc = project.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": cache})
        lines = kill_when(proc, pattern)
        finish(proc)
        assert proc.returncode == -signal.SIGKILL, lines
        assert any(pattern in line for line in lines), lines
        phases = project.readiness()
        assert phases.get("db", {}).get("phase") != "ready", phases
        converged(project, f"killed at {pattern!r} (template cache {cache})")
        project.ok("infra", "down", "--volumes")


def test_killed_at_random_moments(project):
    """``RUNS`` cold starts, each killed after a random delay within a cold start's duration, then ``up`` again."""
    span = cold_start_seconds(project)
    rng = random.Random(SEED)
    good = 0
    for run in range(RUNS):
        delay = rng.uniform(0.0, span)
        cache = "off" if run % 2 else "on"
        proc = project.start("infra", "up", env={"OMNITRON_PROCESS_CACHE": cache})
        kill_when(proc, after=delay)
        finish(proc)
        converged(project, f"run {run} (seed {SEED}): killed after {delay:.2f}s of {span:.2f}s, cache {cache}")
        good += 1
        project.ok("infra", "down", "--volumes")
    print(f"crash runs converged ({project.provider}): {good}/{RUNS} (seed {SEED}, cold start {span:.2f}s)")
    assert good == RUNS
