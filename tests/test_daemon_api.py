"""The daemon's API matches its OpenAPI file (schemathesis, against a real daemon on a real Docker engine).

Schemathesis generates requests from ``core/src/omnitron/daemon/openapi.yaml``
and checks every answer against it: status codes, content types and response
schemas, and no server error. Requests go over the daemon's unix socket
(httpx's ``uds`` transport). Streams are asked without ``follow`` (they would
never end); ``POST /down`` is tested on its own, last (it stops the daemon).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import omnitron.daemon
from daemon_project import BASE_IMAGE, REDIS_IMAGE, DaemonProject, sleeper, wait_for, require_engine

schemathesis = pytest.importorskip("schemathesis")
httpx = pytest.importorskip("httpx")
from hypothesis import HealthCheck, settings  # noqa: E402

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]

SPEC = Path(omnitron.daemon.__file__).parent / "openapi.yaml"
schema = schemathesis.openapi.from_path(SPEC)
BASE = "http://omnitron"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    require_engine(REDIS_IMAGE, BASE_IMAGE)
    root = tmp_path_factory.mktemp("api")
    p = DaemonProject(root, {"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": sleeper(dependsOn=["cache"])}, apps={"web": {"redis": True}}, reconcileInterval="2s")
    p.ok("infra", "up")
    sock = root / ".omnitron" / "daemon.sock"
    wait_for(lambda: sock.exists() and p("daemon", "status").returncode == 0 and json.loads(p.ok("daemon", "status", "--json"))["daemon"], 30, "the daemon answering")
    client = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url=BASE, timeout=120)
    yield p, client
    client.close()
    p.cleanup()


def send(client, case):
    if case.query and "follow" in case.query:
        case.query["follow"] = False
    kwargs = case.as_transport_kwargs(base_url=BASE)
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), (bytes, str)):
        kwargs["content"] = kwargs.pop("data")
    return client.request(kwargs.pop("method"), kwargs.pop("url"), **kwargs)


@schema.exclude(method="POST", path="/down").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_matches_its_openapi_file(case, daemon):
    _, client = daemon
    response = send(client, case)
    case.validate_response(response)


def test_state_and_down_through_the_api(daemon):
    p, client = daemon
    state = client.get("/state").json()
    assert set(state["services"]) == {"cache", "worker"} and state["ready"] is True
    assert client.get("/services/cache").json()["status"] == "running"
    assert client.get("/services/nope").status_code == 404
    assert client.get("/state", params={"stack": "nope"}).status_code == 404
    lines = [json.loads(line) for line in client.get("/events", params={"limit": 3}).text.splitlines()]
    assert len(lines) <= 3 and all({"id", "time", "action", "reason"} <= set(e) for e in lines)
    logs = client.get("/logs/cache", params={"tail": 5})
    assert logs.status_code == 200 and len(logs.text.splitlines()) <= 5
    env = client.post("/apps/web/env", json={})
    assert env.status_code == 200 and env.json()["env"]["REDIS_URL"].startswith("redis://")
    down = client.post("/down", json={})
    assert down.status_code == 200
    body = down.json()
    assert set(body["removed"]) == {"cache", "worker"} and body["daemonStops"] is True
    schema.find_operation_by_label("POST /down").validate_response(down)
    wait_for(lambda: not (p.root / ".omnitron" / "daemon.sock").exists(), 10, "the daemon stopped after the last stack went down")
