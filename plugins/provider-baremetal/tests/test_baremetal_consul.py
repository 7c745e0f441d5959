"""Consul discovery against a replay of Consul's documented ``/v1/health/service/:service`` response.

No Consul agent can be had on the test machines, so a local HTTP server
replays the response shape of Consul's docs (Health HTTP API, "List Service
Instances for Service", sample response) and records each request, to check
the path, ``?passing``, ``tag``, ``dc`` and the ``X-Consul-Token`` header. The
servers those entries point at are real PostgreSQL servers, probed for real.
"""

from __future__ import annotations

import pytest
from baremetal_testlib import PASSWORD, unique, write
from replay import Replay

from omnitron.testing import Session, app_env, free_port, up

pytestmark = pytest.mark.anyio
TOKEN = "b1gs33cr3t-acl-token"


def entry(node: str, node_address: str, service_address: str, port: int, weight: int) -> dict:
    """One element of the documented sample response, with this test's addresses."""
    return {
        "Node": {"ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": node, "Address": node_address, "Datacenter": "dc1",
                 "TaggedAddresses": {"lan": node_address, "wan": node_address}, "Meta": {"instance_type": "t2.medium"}},
        "Service": {"ID": f"pg-{node}", "Service": "pg", "Tags": ["primary"], "Address": service_address,
                    "TaggedAddresses": {"lan": {"address": service_address or node_address, "port": port}}, "Meta": None, "Port": port,
                    "Weights": {"Passing": weight, "Warning": 1}, "Namespace": "default"},
        "Checks": [
            {"Node": node, "CheckID": "service:pg", "Name": "Service 'pg' check", "Status": "passing", "Notes": "", "Output": "",
             "ServiceID": f"pg-{node}", "ServiceName": "pg", "ServiceTags": ["primary"], "Namespace": "default"},
            {"Node": node, "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing", "Notes": "", "Output": "",
             "ServiceID": "", "ServiceName": "", "ServiceTags": [], "Namespace": "default"},
        ],
    }


@pytest.fixture
def consul():
    replay = Replay().start()
    yield replay
    replay.stop()


def consul_db(address: str, **extra) -> dict:
    return {
        "preset": "postgres",
        "bareMetal": {"discovery": "consul", "consul": {"address": address, "service": "pg", "tag": "primary", "datacenter": "dc1", "token": "${secret:consulToken}", **extra}},
        "secrets": {"password": {"secret": "pg-admin"}, "consulToken": {"secret": "consul-token"}},
    }


async def test_consul_passing_instances_are_probed_and_the_heaviest_healthy_one_is_used(omnitron_project, pg_pair, consul):
    """A replay of Consul's health endpoint (no Consul agent can be had here): the node address is used when the service has none."""
    light, heavy = pg_pair
    consul.routes["/v1/health/service/pg"] = (200, [entry("node-a", "127.0.0.1", "", light.port, 1), entry("node-b", "10.255.255.1", "127.0.0.1", heavy.port, 10)])
    app = unique("web")
    project = write(omnitron_project, {"db": consul_db(consul.url)}, {app: {"database": True}}, secrets={"pg-admin": PASSWORD, "consul-token": TOKEN})
    plan = project.plan()
    assert plan.service("db").host == "<pending>" and "consul discovery" in plan.service("db").address_note
    result = await up(project, plan)
    state = result.services["db"].state
    assert (state.host, state.ports) == ("127.0.0.1", {"main": heavy.port})
    assert sorted((c.host, c.ports["main"], c.weight) for c in state.candidates) == sorted([("127.0.0.1", light.port, 1), ("127.0.0.1", heavy.port, 10)])
    async with Session(project, plan) as session:
        assert f"@127.0.0.1:{heavy.port}/{app}" in app_env(session, app)["DATABASE_URL"]
    request = consul.seen[0]
    assert request.path == "/v1/health/service/pg"
    assert request.raw_query.split("&")[0] == "passing" and request.query["tag"] == ["primary"] and request.query["dc"] == ["dc1"]
    assert request.headers["x-consul-token"] == TOKEN
    assert "token" not in request.query  # the token never goes in a URL


def test_a_consul_address_that_does_not_answer_is_one_line_naming_the_field(omnitron_project, omnitron_cli):
    """No Consul agent can be had here: nothing listens on the address at all."""
    address = f"http://127.0.0.1:{free_port()}"
    project = write(omnitron_project, {"db": consul_db(address)}, secrets={"pg-admin": PASSWORD, "consul-token": TOKEN})
    result = omnitron_cli("infra", "up", "--project", str(project.root), "--json")
    assert result.code == 1
    failure = result.json()["services"]["db"]["error"]
    assert failure.startswith(f"omnitron.config.py: infrastructure.services.db.bareMetal.consul.address: {address}/v1/health/service/pg does not answer (Consul): ")
    assert "\n" not in failure and "Traceback" not in result.err


def test_consul_refusing_the_token_names_the_token_field(omnitron_project, omnitron_cli, consul):
    """A replay of Consul's answer to a bad ACL token (no Consul agent can be had here)."""
    consul.routes["/v1/health/service/pg"] = (403, "ACL not found")
    project = write(omnitron_project, {"db": consul_db(consul.url)}, secrets={"pg-admin": PASSWORD, "consul-token": "wrong"})
    result = omnitron_cli("infra", "up", "--project", str(project.root))
    assert result.code == 1
    assert "infrastructure.services.db.bareMetal.consul.token: Consul refused the request (403): \"ACL not found\"" in result.out
