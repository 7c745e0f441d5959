"""Declarations the bare-metal provider reads: bad input as one line (exit 2), older spellings, the plan, a third party's backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from baremetal_testlib import REDIS_PASSWORD, prod, write

from omnitron import hookimpl

SEARCH = {"ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}"}}

BAD = {
    "no servers": ({"discovery": "static"}, "infrastructure.services.search.bareMetal.servers: static discovery needs at least one server"),
    "an empty servers list": ({"servers": []}, "infrastructure.services.search.bareMetal.servers: static discovery needs at least one server"),
    "an unknown discovery kind": ({"discovery": "zookeeper"}, "infrastructure.services.search.bareMetal.discovery: unknown discovery 'zookeeper'; installed: consul, k8s, static"),
    "a typo of a field": ({"sever": [], "servers": [{"host": "h"}]}, "infrastructure.services.search.bareMetal.sever: unknown key (neither a bareMetal field nor an installed discovery backend"),
    "consul options without the service": ({"discovery": "consul", "consul": {"address": "http://c:8500"}}, "infrastructure.services.search.bareMetal.consul.service: required field is missing"),
    "consul with no options at all": ({"discovery": "consul"}, "infrastructure.services.search.bareMetal.consul.service: required field is missing"),
    "k8s with no options at all": ({"discovery": "k8s"}, "infrastructure.services.search.bareMetal.k8s.service: required field is missing"),
    "consul options in the older spelling without the service": ({"discovery": "consul", "options": {"address": "http://c:8500"}}, "infrastructure.services.search.bareMetal.options.service: required field is missing"),
    "a plain consul token": ({"discovery": "consul", "consul": {"service": "s", "token": "hunter2"}}, "infrastructure.services.search.bareMetal.consul.token: write it as \"${secret:NAME}\""),
    "a token naming an undeclared secret": ({"discovery": "consul", "consul": {"service": "s", "token": "${secret:nope}"}}, "bareMetal.consul.token: unknown secret 'nope'"),
    "options of another backend": ({"discovery": "static", "servers": [{"host": "h"}], "k8s": {"service": "s"}}, "bareMetal.k8s: options of k8s discovery, but discovery is 'static'"),
    "servers with consul": ({"discovery": "consul", "consul": {"service": "s"}, "servers": [{"host": "h"}]}, "bareMetal.servers: consul discovery finds its servers itself"),
    "a server port name not declared": ({"servers": [{"host": "h", "ports": {"grpc": 1}}]}, "bareMetal.servers.0.ports.grpc: unknown port 'grpc'; declared: http"),
    "a bad k8s namespace": ({"discovery": "k8s", "k8s": {"service": "pg", "namespace": "Prod_NS"}}, "bareMetal.k8s.namespace: "),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_naming_file_and_field(case, omnitron_project, omnitron_cli):
    bare_metal, expected = BAD[case]
    project = omnitron_project.write(prod({"search": {**SEARCH, "bareMetal": bare_metal}}))
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert result.code == 2, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert lines[0].startswith("omnitron: omnitron.config.py: ") and expected in lines[0], lines[0]


def test_a_command_probe_on_an_existing_server_fails_planning_at_once(omnitron_project, omnitron_cli):
    check = {"tcp": {"port": 9200}, "command": {"exec": ["pg_isready", "-U", "postgres"], "interval": "5s"}}
    project = omnitron_project.write(prod({"search": {**SEARCH, "healthCheck": check, "bareMetal": {"servers": [{"host": "127.0.0.1"}]}}}))
    result = omnitron_cli("infra", "up", "--no-daemon", "--project", str(project.root))
    assert result.code == 2, result.out
    assert result.err.strip() == (
        "omnitron: omnitron.config.py: infrastructure.services.search.healthCheck.command: a command probe runs inside the service, "
        "but provider baremetal connects to a server omnitron does not run ('pg_isready' cannot run there); "
        "use a tcp, http or plugin probe (e.g. postgres, redis) for this stack"
    )


def test_a_bad_stack_override_names_the_override(omnitron_project, omnitron_cli):
    eco = prod({"search": {**SEARCH, "docker": {"image": "es:8"}}}, overrides={"search": {"bareMetal": {"discovery": "dns"}}})
    project = omnitron_project.write(eco)
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert result.code == 2
    assert "omnitron.config.py: stacks.prod.serviceOverrides.search.bareMetal.discovery: unknown discovery 'dns'" in result.err


def test_the_plan_renders_the_static_servers_port(omnitron_project, omnitron_cli):
    db = {
        "type": "database", "ports": {"tcp": 5432},
        "env": {"DATABASE_URL": "postgres://${secret:db_user}:${secret:db_pass}@${host}:${port:tcp}/main"},
        "bareMetal": {"discovery": "static", "servers": [{"host": "127.0.0.1", "port": 13903}]},
        "secrets": {"db_user": {"secret": "db_user"}, "db_pass": {"secret": "db_pass"}},
    }
    project = omnitron_project.write(prod({"db": db}), {"web": {"services": {"db": True}}})
    plan = omnitron_cli("infra", "plan", "--project", str(project.root), "--json").json()
    assert plan["apps"]["web"]["renderedEnv"]["DATABASE_URL"] == "postgres://****:****@127.0.0.1:13903/main"
    assert plan["services"][0]["provider"] == "baremetal" and plan["services"][0]["ports"] == {"tcp": 13903}


def test_the_plan_says_how_the_server_is_chosen(omnitron_project, omnitron_cli):
    bare_metal = {"servers": [{"host": "10.0.1.10", "weight": 1}, {"host": "10.0.1.11", "port": 9300, "weight": 3}]}
    project = omnitron_project.write(prod({"search": {**SEARCH, "bareMetal": bare_metal}}), {"web": {"services": {"search": True}}})
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert "search: 10.0.1.11 - the heaviest of 2 static servers; at run time, the heaviest healthy one" in result.out
    assert "SEARCH_URL=http://10.0.1.11:9300" in result.out


def test_the_bare_metal_stack_override_pins_a_service_with_a_docker_part(omnitron_project):
    eco = {"infrastructure": {"services": {"search": {**SEARCH, "docker": {"image": "es:8"}}}},
           "stacks": {"dev": {"serviceOverrides": {"search": {"bareMetal": {"servers": [{"host": "10.0.1.12", "port": 9201}]}}}}}}
    svc = omnitron_project.write(eco).plan("dev").service("search")
    assert (svc.provider, svc.host, svc.ports) == ("baremetal", "10.0.1.12", {"http": 9201})
    assert svc.origin == "omnitron.config.py: stacks.dev.serviceOverrides.search.bareMetal"


def test_the_older_options_spelling_still_works(omnitron_project):
    bare_metal = {"discovery": "consul", "options": {"service": "search", "address": "http://consul.internal:8500"}}
    svc = omnitron_project.write(prod({"search": {**SEARCH, "bareMetal": bare_metal}})).plan().service("search")
    assert svc.bare_metal.backend_options == {"service": "search", "address": "http://consul.internal:8500"}


class FileBackend:
    """A third party's discovery backend: servers listed in a JSON file (``{"file": {"path": ...}}``)."""

    @staticmethod
    def make():
        from pydantic import BaseModel

        from omnitron_provider_baremetal.backend import DiscoveryBackend, Server, port_map

        class FileOptions(BaseModel):
            path: str

        class Backend(DiscoveryBackend):
            name = "file"
            options_model = FileOptions

            async def discover(self, query):
                rows = json.loads(Path(query.options.path).read_text())
                return [Server(r["host"], port_map(query.declared_ports, port=r["port"]), r.get("weight", 1), "file") for r in rows]

        return Backend

    @hookimpl
    def omnitron_baremetal_add_discovery_backends(self):
        return [self.make()]


@pytest.mark.anyio
async def test_a_third_party_discovery_backend_plugs_in_without_touching_the_provider(omnitron_project, register_plugin, pg_pair, tmp_path):
    from omnitron.testing import Session, app_env, up

    register_plugin(FileBackend(), name="file-discovery")
    listing = tmp_path / "servers.json"
    listing.write_text(json.dumps([{"host": "127.0.0.1", "port": pg_pair[1].port, "weight": 2}, {"host": "127.0.0.1", "port": pg_pair[0].port}]))
    db = {"preset": "postgres", "bareMetal": {"discovery": "file", "file": {"path": str(listing)}}, "secrets": {"password": {"secret": "pg-admin"}}}
    project = write(omnitron_project, {"db": db}, {"reports": {"database": True}})
    plan = project.plan()
    result = await up(project, plan)
    assert result.services["db"].state.ports == {"main": pg_pair[1].port}
    async with Session(project, plan) as session:
        assert f"@127.0.0.1:{pg_pair[1].port}/reports" in app_env(session, "reports")["DATABASE_URL"]
    infos = {i.name: i for i in project.plugins.plugin_infos()}
    assert infos["file-discovery"].provides == {"discovery_backends": ["file"]}


@pytest.mark.anyio
async def test_redis_gets_a_recorded_db_index_on_the_existing_server(omnitron_project, redis_server):
    import redis

    from omnitron.api import StateStore
    from omnitron.testing import Session, app_env, up

    cache = {"preset": "redis", "bareMetal": {"servers": [{"host": redis_server.host, "port": redis_server.port}]}, "secrets": {"password": {"secret": "redis-pw"}}}
    project = write(omnitron_project, {"cache": cache}, {"web": {"redis": True}, "jobs": {"redis": True}})
    first = await up(project, project.plan())
    again = await up(project, project.plan())
    assert first.services["cache"].allocations == again.services["cache"].allocations
    with StateStore(project.state_dir) as state:
        indexes = state.indexes("prod", "cache")
    assert sorted(indexes) == ["jobs", "web"] and len(set(indexes.values())) == 2
    async with Session(project, project.plan()) as session:
        url = app_env(session, "web")["REDIS_URL"]
    assert url.endswith(f"@127.0.0.1:{redis_server.port}/{indexes['web']}")
    client = redis.Redis.from_url(url)
    try:
        client.set("k", "v")
        assert client.connection_pool.connection_kwargs["db"] == indexes["web"] and client.get("k") == b"v"
    finally:
        client.close()
    assert REDIS_PASSWORD not in url
