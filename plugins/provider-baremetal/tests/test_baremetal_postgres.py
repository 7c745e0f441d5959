"""Bare-metal Postgres on real servers started on 127.0.0.1: weights, failover, per-app databases, down, credentials."""

from __future__ import annotations

import pytest
from baremetal_testlib import PASSWORD, pg_service, unique, write

from omnitron.api import ProvisionError, StateStore
from omnitron.testing import Session, app_env, up

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.anyio


async def cli(omnitron_cli, *args):
    """The CLI in-process, on a thread of its own (it runs its own event loop)."""
    import anyio

    return await anyio.to_thread.run_sync(lambda: omnitron_cli(*args))


async def env_of(project, plan, app):
    async with Session(project, plan) as session:
        return app_env(session, app)


def admin(server, dbname="postgres"):
    return psycopg.connect(host=server.host, port=server.port, user=server.user, password=PASSWORD, dbname=dbname, autocommit=True)


def databases(server) -> set[str]:
    with admin(server) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


async def test_the_heaviest_healthy_server_is_chosen_and_the_app_gets_its_database_there(omnitron_project, pg_pair):
    light, heavy = pg_pair
    app = unique("orders")
    project = write(omnitron_project, {"db": pg_service([(light, 1), (heavy, 5)])}, {app: {"database": True}})
    plan = project.plan()
    assert (plan.service("db").provider, plan.service("db").ports) == ("baremetal", {"main": heavy.port})
    result = await up(project, plan)
    state = result.services["db"].state
    assert (state.host, state.ports, state.reason) == ("127.0.0.1", {"main": heavy.port}, "the heaviest healthy server (weight 5)")
    assert [(c.ports["main"], c.health, c.chosen) for c in state.candidates] == [(heavy.port, "healthy", True), (light.port, "healthy", False)]
    assert app in databases(heavy) and app not in databases(light)
    url = (await env_of(project, plan, app))["DATABASE_URL"]
    assert f"@127.0.0.1:{heavy.port}/{app}" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database(), inet_server_port()").fetchone() == (app, heavy.port)


async def test_failover_to_the_next_server_when_the_chosen_one_stops(omnitron_project, own_pg_pair, omnitron_cli):
    primary, standby = own_pg_pair
    app = unique("billing")
    project = write(omnitron_project, {"db": pg_service([(primary, 3), (standby, 1)])}, {app: {"database": True}})
    await up(project, project.plan())
    assert f":{primary.port}/" in (await env_of(project, project.plan(), app))["DATABASE_URL"]
    primary.stop()
    plan = project.plan()
    result = await up(project, plan)
    state = result.services["db"].state
    assert state.ports == {"main": standby.port}
    assert state.reason.startswith(f"failover: 127.0.0.1:{primary.port} unhealthy: ")
    assert app in databases(standby)
    # recorded: a later command (a new plan, through the CLI) hands apps the server chosen, not the one planned
    shown = await cli(omnitron_cli, "infra", "env", app, "--project", str(project.root), "--show-secrets")
    assert shown.code == 0, shown.err
    assert f"@127.0.0.1:{standby.port}/{app}" in shown.out
    status = await cli(omnitron_cli, "infra", "status", "--project", str(project.root), "--json")
    db = status.json()["services"]["db"]
    assert db["host"] == "127.0.0.1" and db["ports"] == {"main": standby.port} and db["reason"].startswith("failover")
    assert {c["ports"]["main"]: c["health"] for c in db["candidates"]} == {primary.port: "unhealthy", standby.port: "healthy"}
    table = await cli(omnitron_cli, "infra", "status", "--project", str(project.root))
    assert f"127.0.0.1:{primary.port} weight 3: unhealthy" in table.out and f"127.0.0.1:{standby.port} weight 1: chosen" in table.out


async def test_none_healthy_lists_every_server_with_its_last_probe(omnitron_project, own_pg_pair):
    first, second = own_pg_pair
    for server in own_pg_pair:
        server.stop()
    project = write(omnitron_project, {"db": {**pg_service([(first, 2), (second, 1)]), "startupTimeout": "300ms"}})
    with pytest.raises(ProvisionError) as info:
        await up(project, project.plan())
    message = str(info.value)
    assert "service db: no healthy server (static discovery (2 servers)): " in message
    assert f"127.0.0.1:{first.port} (weight 2, servers.0): postgres 127.0.0.1:{first.port}: " in message
    assert f"127.0.0.1:{second.port} (weight 1, servers.1): postgres 127.0.0.1:{second.port}: " in message
    assert "raise startupTimeout (now 0.3s) of service db" in message  # its wait ran out: the engine says what to do next
    assert "\n" not in message


async def test_allocation_is_idempotent_and_recorded_as_with_provisioned_servers(omnitron_project, pg_pair):
    server = pg_pair[0]
    a, b = unique("web"), unique("admin")
    project = write(omnitron_project, {"db": pg_service([(server, 1)])}, {a: {"database": True}, b: {"database": {"name": unique("Reports")}}})
    first = await up(project, project.plan())
    again = await up(project, project.plan())
    assert first.services["db"].allocations == again.services["db"].allocations
    with StateStore(project.state_dir) as state:
        rows = {(r["app"], r["kind"], r["values"]["database"]) for r in state.allocations("prod")}
    assert rows == {(a, "database", a), (b, "database", first.services["db"].allocations[b]["database"])}
    assert {a, first.services["db"].allocations[b]["database"]} <= databases(server)


async def test_down_and_reset_leave_the_server_and_its_data_alone(omnitron_project, pg_pair, omnitron_cli):
    server = pg_pair[1]
    app = unique("shop")
    project = write(omnitron_project, {"db": pg_service([(server, 1)])}, {app: {"database": True}})
    await up(project, project.plan())
    with psycopg.connect((await env_of(project, project.plan(), app))["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    down = await cli(omnitron_cli, "infra", "down", "--volumes", "--project", str(project.root), "--json")
    assert down.code == 0, down.err
    assert down.json()["untouched"] == ["db"] and down.json()["removed"] == {}
    confirm = await cli(omnitron_cli, "infra", "reset", "--project", str(project.root))
    assert confirm.code == 1 and f"db: baremetal (127.0.0.1), not touched" in confirm.out
    assert server.process.poll() is None
    with admin(server, app) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
    with StateStore(project.state_dir) as state:
        assert [r["app"] for r in state.allocations("prod")] == [app]  # still recorded: the database is still there


async def test_special_characters_in_the_credentials_are_url_encoded(omnitron_project, pg_pair):
    app = unique("api")
    project = write(omnitron_project, {"db": pg_service([(pg_pair[0], 1)])}, {app: {"database": True}})
    await up(project, project.plan())
    url = (await env_of(project, project.plan(), app))["DATABASE_URL"]
    assert PASSWORD not in url
    assert "s3cr%20et%40p%3Aa%2Fss%3F%23%25%26%2B%27%C3%A9" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)


async def test_the_static_servers_port_reaches_database_url(omnitron_project, pg_pair, omnitron_cli):
    server = pg_pair[0]
    db = {
        "type": "database",
        "ports": {"tcp": 5432},
        "env": {"DATABASE_URL": "postgres://${secret:db_user}:${secret:db_pass}@${host}:${port:tcp}/postgres"},
        "bareMetal": {"discovery": "static", "servers": [{"host": "127.0.0.1", "port": server.port}]},
        "secrets": {"db_user": {"secret": "db_user"}, "db_pass": {"secret": "db_pass"}},
        "healthCheck": {"tcp": {"port": "tcp"}},
    }
    project = write(omnitron_project, {"db": db}, {"web": {"services": {"db": True}}}, secrets={"db_user": "postgres", "db_pass": PASSWORD})
    planned = await cli(omnitron_cli, "infra", "env", "web", "--project", str(project.root))
    assert f"@127.0.0.1:{server.port}/postgres" in planned.out
    await up(project, project.plan())
    url = (await env_of(project, project.plan(), "web"))["DATABASE_URL"]
    assert url.startswith("postgres://postgres:") and url.endswith(f"@127.0.0.1:{server.port}/postgres")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT inet_server_port()").fetchone() == (server.port,)


async def test_a_role_without_createdb_is_a_clear_error_naming_the_privilege(omnitron_project, pg_pair):
    server = pg_pair[0]
    role = unique("limited")
    with admin(server) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'limited-pw'")
    app = unique("blog")
    project = write(omnitron_project, {"db": pg_service([(server, 1)], user=role, secret="limited")}, {app: {"database": True}}, secrets={"limited": "limited-pw"})
    with pytest.raises(ProvisionError) as info:
        await up(project, project.plan())
    assert f"service db: app {app}: role '{role}' lacks the CREATEDB privilege, so database {app} cannot be created" in str(info.value)
    assert app not in databases(server)


async def test_an_unset_admin_secret_is_a_clear_error_not_a_generated_password(omnitron_project, pg_pair):
    project = write(omnitron_project, {"db": pg_service([(pg_pair[0], 1)], secret="never-set")}, secrets={})
    plan = project.plan()
    assert plan.service("db").generated == []
    with pytest.raises(ProvisionError, match=r"service db: secret 'password' is not set: it is the existing server's, so omnitron cannot generate it; store it with `omnitron secret set never-set`"):
        await up(project, plan)
