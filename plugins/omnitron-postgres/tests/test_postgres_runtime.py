"""The postgres preset at run time, against a real PostgreSQL server.

The server is started from the machine's PostgreSQL binaries and reached
through the ``external`` provider (stack override), so these tests need no
Docker engine. Its password is put in the secret store under the key the
preset's generated credential uses.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from omnitron.testing import app_env, backend_for, Session, unavailable, up

from omnitron.api import ProvisionError, StateStore
from omnitron_test_servers import ServerUnavailable, start_postgres

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="session")
def pg():
    try:
        server = start_postgres()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch, omnitron_isolated):
    monkeypatch.setenv("OMNITRON_PLUGINS", "postgres")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def pg_project(factory, pg, apps=None, *, password=None, **entry):
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"db": {"preset": "postgres", **entry}}},
        "stacks": {"dev": {"serviceOverrides": {"db": {"external": {"host": pg.host, "ports": {"main": pg.port}}}}}},
    }
    project = factory.write(eco, apps)
    backend_for(project).set("shop/dev/db/password", password or pg.password)
    return project


def admin(pg, dbname="postgres"):
    return psycopg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=dbname, autocommit=True)


def extensions_in(pg, dbname) -> set[str]:
    with admin(pg, dbname) as conn:
        return {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}


async def envs(project, plan, *apps):
    async with Session(project, plan) as session:
        return [app_env(session, a) for a in apps]


async def test_each_app_gets_its_own_database(omnitron_project, pg):
    a, b = unique("orders"), unique("billing")
    project = pg_project(omnitron_project, pg, {a: {"database": True}, b: {"database": True}})
    plan = project.plan()
    result = await up(project, plan)
    assert result.services["db"].allocations == {a: {"database": a, "user": "postgres"}, b: {"database": b, "user": "postgres"}}
    env_a, env_b = await envs(project, plan, a, b)
    assert env_a["DATABASE_URL"].endswith(f"/{a}") and env_b["DATABASE_URL"].endswith(f"/{b}")
    with psycopg.connect(env_a["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
        conn.execute("INSERT INTO only_here VALUES (1)")
        assert conn.execute("SELECT current_database()").fetchone()[0] == a
    with psycopg.connect(env_b["DATABASE_URL"], autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == b
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM only_here")


async def test_allocations_are_stable_across_runs(omnitron_project, pg):
    a = unique("shop")
    project = pg_project(omnitron_project, pg, {a: {"database": True}})
    await up(project, project.plan())
    with StateStore(project.state_dir) as state:
        first = state.allocations("dev")
    (first_env,) = await envs(project, project.plan(), a)
    await up(project, project.plan())
    with StateStore(project.state_dir) as state:
        assert state.allocations("dev") == first
    assert (await envs(project, project.plan(), a))[0] == first_env


async def test_configured_databases_and_extensions_are_created_idempotently(omnitron_project, pg):
    reports = unique("Reports")  # mixed case: only a quoted identifier keeps it
    project = pg_project(omnitron_project, pg, config={"databases": {reports: {"extensions": ["hstore"]}}, "extensions": ["citext"]})
    for _ in range(2):
        await up(project, project.plan())
    with admin(pg) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert reports in names and reports.lower() not in names
    assert {"citext", "hstore"} <= extensions_in(pg, reports)
    assert "citext" in extensions_in(pg, "postgres")


async def test_app_database_name_and_extensions_from_the_request(omnitron_project, pg):
    name = unique("Mixed")
    app = unique("api")
    project = pg_project(omnitron_project, pg, {app: {"database": {"name": name, "extensions": ["pgcrypto"]}}})
    await up(project, project.plan())
    assert "pgcrypto" in extensions_in(pg, name)
    (env,) = await envs(project, project.plan(), app)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name


async def test_unknown_extension_is_a_clear_error(omnitron_project, pg):
    project = pg_project(omnitron_project, pg, config={"extensions": ["no_such_extension"]})
    with pytest.raises(ProvisionError, match="service db: database postgres: cannot create extension no_such_extension"):
        await up(project, project.plan())


async def test_wrong_password_fails_after_startup_timeout_naming_the_service(omnitron_project, pg):
    project = pg_project(omnitron_project, pg, password="not-the-password", startupTimeout="500ms")
    with pytest.raises(ProvisionError) as err:
        await up(project, project.plan())
    assert "service db did not become healthy" in str(err.value)
    assert "password authentication failed" in str(err.value)


def omnitron(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "omnitron"), *args], capture_output=True, text=True, timeout=120)


async def test_infra_psql_runs_local_psql_with_the_password_from_the_store(omnitron_project, pg):
    app = unique("web")
    project = pg_project(omnitron_project, pg, {app: {"database": True}})
    await up(project, project.plan())
    res = omnitron("infra", "psql", app, "-c", "SELECT current_database()", "--project", str(project.root))
    assert res.returncode == 0, res.stderr
    assert app in res.stdout
    assert pg.password not in res.stdout + res.stderr
    url = omnitron("infra", "psql", app, "--print-url", "--project", str(project.root)).stdout.strip()
    assert pg.password in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == app


def test_infra_psql_database_alone_picks_the_postgres_service_holding_it(omnitron_project, pg):
    external = {"external": {"host": pg.host, "ports": {"main": pg.port}}}
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"db": {"preset": "postgres"}, "books": {"preset": "postgres", "config": {"user": "books_admin", "databases": {"ledger": {}}}}}},
        "stacks": {"dev": {"serviceOverrides": {"db": external, "books": external}}},
    }
    project = omnitron_project.write(eco, {"web": {"database": {"service": "db"}}})
    for name in ("db", "books"):
        backend_for(project).set(f"shop/dev/{name}/password", pg.password)
    root = str(project.root)
    web = omnitron("infra", "psql", "web", "--print-url", "--project", root)
    assert web.returncode == 0, web.stderr
    assert web.stdout.strip().startswith("postgresql://postgres:") and web.stdout.strip().endswith("/web")
    ledger = omnitron("infra", "psql", "ledger", "--print-url", "--project", root)
    assert ledger.returncode == 0, ledger.stderr
    assert ledger.stdout.strip().startswith("postgresql://books_admin:") and ledger.stdout.strip().endswith("/ledger")
    other = omnitron("infra", "psql", "postgres", "--print-url", "--project", root)
    assert other.returncode == 2
    assert other.stderr.strip() == "omnitron: stack dev has several postgres services (books, db): choose one with --service"


async def test_a_server_that_cannot_take_connections_now_is_asked_again_within_milliseconds(omnitron_project, monkeypatch):
    """SQLSTATE 57P03 (starting up, or shutting down) is asked again every few ms for a moment, not at the gate's pace.

    A real server in a smart shutdown with a session still open answers 57P03 to every new connection: the
    same answer a server gives between listening and being ready, which lasts too short to aim a test at.
    """
    import signal
    import time

    from omnitron_postgres import probe, wire

    server = start_postgres()
    held = psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres")
    try:
        server.process.send_signal(signal.SIGTERM)  # smart shutdown: the open session keeps it up, new ones are refused
        for _ in range(100):
            try:
                psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres", connect_timeout=2).close()
            except psycopg.OperationalError as exc:
                if "shutting down" in str(exc):
                    break
            time.sleep(0.02)
        else:
            pytest.fail("the server never said it was shutting down")
        attempts: list[float] = []
        real = wire.connect

        async def counted(*args, **kwargs):
            attempts.append(time.monotonic())
            return await real(*args, **kwargs)

        monkeypatch.setattr(wire, "connect", counted)
        project = pg_project(omnitron_project, server, password=server.password, startupTimeout="300ms")
        with pytest.raises(ProvisionError) as err:
            await up(project, project.plan())
        assert "shutting down" in str(err.value) and "SQLSTATE 57P03" in str(err.value)
        gaps = [b - a for a, b in zip(attempts, attempts[1:])]
        soon = [g for g in gaps if g < probe.SOON_S + 0.008]
        assert len(soon) >= len(gaps) // 2, gaps  # most attempts follow the last within ms; the gate's pace is 25 ms
        assert len(attempts) >= 0.3 / (probe.SOON_FOR_S + 0.025 + 0.01), attempts  # bounded: a burst per gate attempt
        assert len(attempts) <= 0.3 / probe.SOON_S + 5, attempts
    finally:
        held.close()
        server.stop()
