"""The phantom endpoint janitor and ``infra prune``: endpoints that ``omnitron run`` handed to apps the config no longer declares.

A real Redis container; the real CLI. With the daemon the janitor runs on every
pass (retention 8 s here); without it, ``infra reconcile`` runs one pass in the
command itself, and ``infra prune`` removes only what it is asked to.
"""

from __future__ import annotations

import json
import sys

import pytest

from daemon_project import BASE_IMAGE, REDIS_IMAGE, DaemonProject, docker, sleeper, wait_for, require_engine

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]

CACHE = {"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}}


@pytest.fixture(scope="module", autouse=True)
def engine():
    require_engine(REDIS_IMAGE, BASE_IMAGE)


def endpoints(p: DaemonProject) -> list[dict]:
    return json.loads(p.ok("infra", "endpoints", "--json", env={"OMNITRON_DAEMON": "off"}))["endpoints"]


def test_the_janitor_marks_and_drops_phantoms(tmp_path, omnitron_daemon):
    omnitron_daemon.watch(tmp_path)
    p = DaemonProject(tmp_path, CACHE, apps={"web": {"redis": True}, "api": {"redis": True}}, phantomRetention="8s")
    try:
        p.ok("infra", "up")
        for app in ("web", "api"):
            p.ok("run", app, "--", sys.executable, "-c", "pass")
        found = {(e["app"], e["service"]): e for e in endpoints(p)}
        assert set(found) == {("web", "cache"), ("api", "cache")}
        assert found[("web", "cache")]["env"] == ["REDIS_URL"] and found[("web", "cache")]["state"] == "live"
        after = p.last_id()
        p.write(CACHE, apps={"api": {"redis": True}}, phantomRetention="8s")  # web is removed from the config
        [marked] = p.wait_event("phantom", "cache", after=after, timeout=20)
        assert marked["data"]["app"] == "web" and "web is no longer declared" in marked["reason"]
        assert {(e["app"], e["state"]) for e in endpoints(p)} == {("web", "phantom"), ("api", "live")}
        [dropped] = p.wait_event("drop-phantom", "cache", after=after, timeout=20)
        assert dropped["data"]["app"] == "web"
        assert [(e["app"], e["state"]) for e in endpoints(p)] == [("api", "live")]
        assert json.loads(p.ok("infra", "status", "--json"))["services"]["cache"]["status"] == "running"  # containers untouched
    finally:
        p.cleanup()


def test_prune_removes_only_what_it_is_asked(tmp_path):
    p = DaemonProject(tmp_path, {**CACHE, "old": sleeper()}, apps={"web": {"redis": True}})
    p.env["OMNITRON_DAEMON"] = "off"
    try:
        p.ok("infra", "up")
        p.ok("run", "web", "--", sys.executable, "-c", "pass")
        p.write({**CACHE, "new": sleeper()}, apps={})  # web gone, old renamed: a phantom and an orphan
        result = json.loads(p.ok("infra", "reconcile", "--json"))  # one pass here: the janitor marks, and the orphan goes
        assert {a["action"] for a in result["actions"]} >= {"remove-orphan", "create"}
        assert [e["state"] for e in endpoints(p)] == ["phantom"]
        listed = json.loads(p.ok("infra", "prune", "--json"))
        assert [x["app"] for x in listed["phantoms"]] == ["web"] and listed["removed"] is False
        assert "nothing removed" in p.ok("infra", "prune") and endpoints(p)
        assert json.loads(p.ok("infra", "prune", "--phantoms", "--json"))["removed"] is True
        assert endpoints(p) == []
        # an orphan left without a daemon: prune lists it, --orphans removes it, its volume is kept
        p.write({"cache2": CACHE["cache"], "new": sleeper()}, apps={})
        listed = json.loads(p.ok("infra", "prune", "--json"))
        assert listed["orphans"] == {"cache": "docker"}
        assert docker("ps", "-q", "--filter", f"name={p.container('cache')}$")
        assert json.loads(p.ok("infra", "prune", "--orphans", "--json"))["removed"] is True
        wait_for(lambda: not docker("ps", "-aq", "--filter", f"name={p.container('cache')}$", check=False), 20, "the orphan removed")
        assert docker("volume", "ls", "-q", "--filter", "label=omnitron.service=cache", "--filter", f"label=omnitron.project={p.name}")
    finally:
        p.cleanup()


def test_up_removes_an_orphan_holding_the_port(tmp_path):
    """A service renamed in the config: ``infra up`` (no daemon) removes the old container instead of failing on its port."""
    p = DaemonProject(tmp_path, CACHE, apps={})
    p.env["OMNITRON_DAEMON"] = "off"
    try:
        p.ok("infra", "up")
        p.write({"kv": CACHE["cache"]}, apps={})  # same preset, same host port
        out = p.ok("infra", "up")
        assert "orphan" in out and "collision" not in out
        assert [e["action"] for e in p.events() if e["service"] == "cache"] == ["remove-orphan"]
        assert json.loads(p.ok("infra", "status", "--json"))["ready"] is True
    finally:
        p.cleanup()
