"""The daemon on a real Docker engine: drift repaired within an interval, orphans, changed and broken configs, backoff, re-gating.

Every project here reconciles every second (``reconcileInterval: 1s``) and
backs off from 1 s (``reconcileBackoff: 1s``). Containers are the local test
images (a Redis, and ``sleep`` in the Debian base image).
"""

from __future__ import annotations

import json

import pytest

from daemon_project import BASE_IMAGE, REDIS_IMAGE, DaemonProject, docker, sleeper, wait_for, require_engine

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]

REPAIR_WITHIN = 30.0
"""Generous: one interval (1 s) plus the repair itself on a busy machine."""


@pytest.fixture(scope="module", autouse=True)
def engine():
    require_engine(REDIS_IMAGE, BASE_IMAGE)


def cache_and_worker() -> dict:
    return {"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": sleeper(dependsOn=["cache"])}


@pytest.fixture
def project(tmp_path, omnitron_daemon):
    p = DaemonProject(tmp_path, cache_and_worker(), apps={"web": {"redis": True}})
    omnitron_daemon.watch(tmp_path)
    yield p
    p.cleanup()


def running(p: DaemonProject, service: str) -> bool:
    return docker("inspect", "-f", "{{.State.Running}}", p.container(service), check=False) == "true"


def test_up_starts_the_daemon_with_a_private_socket(project):
    out = project.ok("infra", "up")
    assert "daemon: started (pid" in out
    sock = project.root / ".omnitron" / "daemon.sock"
    wait_for(sock.exists, 20, "the daemon's socket")
    assert sock.stat().st_mode & 0o777 == 0o600
    status = json.loads(project.ok("daemon", "status", "--json"))
    assert status["running"] and status["pid"] == project.daemon_pid()


@pytest.mark.parametrize("drift,action", [(("stop", "-t", "1"), "start"), (("kill",), "start"), (("rm", "-f"), "create")])
def test_drift_is_repaired_and_dependents_regated(project, drift, action):
    project.ok("infra", "up")
    before = docker("inspect", "-f", "{{.Id}}", project.container("cache"))
    after = project.last_id()
    docker(*drift, project.container("cache"))
    # ``rm -f`` kills before it removes: a pass that looked in between saw it exited (code 137), and started it
    # again by creating it; what counts is that the container is a new one
    accepted = (action, "start") if action == "create" else (action,)
    [event] = wait_for(lambda: [e for e in project.events() if e["id"] > after and e["service"] == "cache" and e["action"] in accepted], REPAIR_WITHIN, f"a {action} of cache")
    assert event["data"]["dependents"] == ["worker"]
    [regate] = project.wait_event("regate", "cache", after=after, timeout=5)
    assert "worker" in regate["reason"]
    project.wait_event("ready", "cache", after=after, timeout=REPAIR_WITHIN)
    project.wait_event("released", "worker", after=after, timeout=REPAIR_WITHIN)
    assert running(project, "cache")
    assert (docker("inspect", "-f", "{{.Id}}", project.container("cache")) != before) == (action == "create")
    state = json.loads(project.ok("infra", "status", "--json"))
    assert state["ready"] and state["services"]["worker"]["waitingFor"] is None
    assert state["lastReconciled"]


def test_changed_config_recreates_and_a_rename_leaves_no_orphan(project):
    project.ok("infra", "up")
    after = project.last_id()
    project.write({**cache_and_worker(), "worker": sleeper(dependsOn=["cache"], docker={"image": BASE_IMAGE, "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 99999 & wait"]})}, apps={"web": {"redis": True}})
    project.wait_event("recreate", "worker", after=after, timeout=REPAIR_WITHIN)
    project.wait_event("ready", "worker", after=after, timeout=REPAIR_WITHIN)
    assert "99999" in docker("inspect", "-f", "{{.Config.Cmd}}", project.container("worker"))
    after = project.last_id()
    project.write({"cache": cache_and_worker()["cache"], "worker2": sleeper(dependsOn=["cache"])}, apps={"web": {"redis": True}})
    project.wait_event("remove-orphan", "worker", after=after, timeout=REPAIR_WITHIN + 10)
    project.wait_event("create", "worker2", after=after, timeout=REPAIR_WITHIN + 10)
    wait_for(lambda: not docker("ps", "-aq", "--filter", f"name={project.container('worker')}$", check=False), 20, "the orphan's container gone")
    assert running(project, "worker2")


def test_broken_config_is_reported_and_services_are_left_alone(project):
    project.ok("infra", "up")
    started = docker("inspect", "-f", "{{.State.StartedAt}}", project.container("cache"))
    after = project.last_id()
    path = project.root / "omnitron.config.py"
    good = path.read_text()
    path.write_text(good + "\nbroken(\n")
    [event] = project.wait_event("config-error", after=after, timeout=REPAIR_WITHIN)
    assert "omnitron.config.py" in event["reason"] and "left as they are" in event["reason"]
    docker("stop", "-t", "1", project.container("worker"))  # drift while the config is broken: nobody touches it
    status = project("infra", "status", "--json")
    assert status.returncode == 2 and "omnitron.config.py" in status.stderr
    assert json.loads(project.ok("daemon", "status", "--json"))["running"]
    assert docker("inspect", "-f", "{{.State.StartedAt}}", project.container("cache")) == started
    assert not running(project, "worker")
    after = project.last_id()
    path.write_text(good)
    project.wait_event("config-fixed", after=after, timeout=REPAIR_WITHIN)
    project.wait_event("ready", "worker", after=after, timeout=REPAIR_WITHIN)
    assert docker("inspect", "-f", "{{.State.StartedAt}}", project.container("cache")) == started


def test_unhealthy_twice_is_restarted(project, tmp_path):
    probe = {"command": {"exec": ["test", "-f", "/tmp/ok"]}, "timeout": "2s", "interval": "1s"}
    services = {"svc": {"docker": {"image": BASE_IMAGE, "command": ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; sleep infinity & wait"]}, "healthCheck": probe}}
    project.write(services)
    project.ok("infra", "up")
    after = project.last_id()
    docker("exec", project.container("svc"), "rm", "/tmp/ok")
    [event] = project.wait_event("restart", "svc", after=after, timeout=REPAIR_WITHIN)
    assert "unhealthy on 2 consecutive checks" in event["reason"]
    project.wait_event("ready", "svc", after=after, timeout=REPAIR_WITHIN)
    docker("exec", project.container("svc"), "test", "-f", "/tmp/ok")


def test_backoff_grows_on_a_service_that_always_fails(project):
    # an exec probe that never passes (a published port would not do: docker-proxy accepts on it while the container lives)
    never = {"command": {"exec": ["false"]}, "timeout": "1s"}
    failing = {"docker": {"image": BASE_IMAGE, "command": ["sh", "-c", "sleep 0.3; exit 3"]}, "healthCheck": never, "startupTimeout": "3s"}
    project.write({"bad": failing, "fine": sleeper()}, reconcileBackoffMax="8s")
    up = project("infra", "up")
    assert up.returncode == 1 and "daemon: started" in up.stdout  # the daemon keeps trying
    backoffs = project.wait_event("backoff", "bad", timeout=90, count=3)
    delays = [e["data"]["delay"] for e in backoffs[:3]]
    assert delays == sorted(delays) and delays[0] < delays[-1], delays
    assert [e["data"]["failures"] for e in backoffs[:3]] == [1, 2, 3]
    assert json.loads(project.ok("daemon", "status", "--json"))["running"]
    text = project.ok("infra", "events", "--service", "bad")
    assert "backoff" in text and "next repair in" in text
    assert running(project, "fine")
