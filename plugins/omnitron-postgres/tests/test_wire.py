"""The wire-protocol client the probe and the "anything to create?" check use, against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import threading

import pytest

from omnitron.testing import free_port, modules_imported_by, unavailable
from omnitron_postgres import wire
from omnitron_test_servers import ServerUnavailable, start_postgres

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server():
    try:
        srv = start_postgres()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    yield srv
    srv.stop()


async def test_scram_authentication_and_queries_with_bound_parameters(server):
    async with await wire.connect(server.host, server.port, user=server.user, password=server.password, dbname="postgres") as conn:
        assert await conn.query("SELECT 1") == [("1",)]
        assert await conn.query("SELECT datname FROM pg_database WHERE datname = $1", "postgres") == [("postgres",)]
        tricky = "x'); DROP DATABASE postgres; --"
        assert await conn.query("SELECT $1::text, NULL", tricky) == [(tricky, None)]  # a parameter, never SQL
        with pytest.raises(wire.PgError) as err:
            await conn.query("SELECT * FROM no_such_table")
        assert err.value.code == "42P01"
        assert await conn.query("SELECT 2") == [("2",)]  # the connection is usable after an error


async def test_a_wrong_password_and_a_missing_database_are_refused(server):
    with pytest.raises(wire.PgError) as err:
        await wire.connect(server.host, server.port, user=server.user, password="not-" + server.password, dbname="postgres")
    assert err.value.code == "28P01"
    with pytest.raises(wire.PgError) as err:
        await wire.connect(server.host, server.port, user=server.user, password=server.password, dbname="no_such_db")
    assert err.value.code == "3D000"


async def test_nothing_listening_is_an_os_error():
    with pytest.raises(OSError):
        await wire.connect("127.0.0.1", free_port(), user="postgres", password="x", dbname="postgres", timeout=2)


async def test_something_that_is_not_postgres_is_a_protocol_error():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_http() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_http, daemon=True).start()
    try:
        with pytest.raises(wire.ProtocolError):
            await wire.connect("127.0.0.1", listener.getsockname()[1], user="postgres", password="x", dbname="postgres", timeout=5)
    finally:
        listener.close()


def test_a_no_op_up_and_status_never_import_psycopg_but_a_missing_database_is_still_made(server, tmp_path, omnitron_isolated):
    """A behaviour guard, not a timing: nothing to create means no psycopg; something missing is still created."""
    import psycopg

    eco = {
        "project": "shop",
        "apps": [{"name": "web"}],
        "infrastructure": {"services": {"db": {"preset": "postgres", "startupTimeout": "5s", "config": {"extensions": ["pgcrypto"]}}}},
        "stacks": {"dev": {"serviceOverrides": {"db": {"external": {"host": server.host, "ports": {"main": server.port}}}}}},
    }
    (tmp_path / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    (tmp_path / "apps" / "web" / "config").mkdir(parents=True)
    (tmp_path / "apps" / "web" / "config" / "default.json").write_text(json.dumps({"omnitron": {"database": True}}))
    env = {**os.environ, "OMNITRON_PLUGINS": "postgres", "OMNITRON_PROJECT": str(tmp_path)}
    assert modules_imported_by(["secret", "set", "shop/dev/db/password", server.password], env=env)[0] == 0
    code, imported = modules_imported_by(["infra", "up", "--json"], env=env)
    assert code == 0 and "psycopg" in imported  # the first up creates the app's database and the extension
    for argv in (["infra", "up", "--json"], ["infra", "status", "--json"]):
        code, imported = modules_imported_by(argv, env=env)
        assert code == 0, argv
        assert "psycopg" not in imported and "omnitron_postgres" in imported, argv
    dsn = dict(host=server.host, port=server.port, user=server.user, password=server.password, autocommit=True)
    with psycopg.connect(dbname="postgres", **dsn) as conn:
        conn.execute("DROP DATABASE web")
    code, imported = modules_imported_by(["infra", "up", "--json"], env=env)
    assert code == 0 and "psycopg" in imported
    with psycopg.connect(dbname="web", **dsn) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'").fetchone() == ("pgcrypto",)


def test_a_password_that_needs_preparing_authenticates_as_libpq_does(omnitron_isolated):
    """A non-ASCII password with a full-width letter and a no-break space: SASLprep maps them as libpq does."""
    import anyio
    import psycopg

    password = "p\u00e4ss\u00a0\uff37ord"
    try:
        srv = start_postgres(password=password)
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        with psycopg.connect(host=srv.host, port=srv.port, user=srv.user, password=password, dbname="postgres"):
            pass  # libpq's way works

        async def connect() -> list:
            async with await wire.connect(srv.host, srv.port, user=srv.user, password=password, dbname="postgres") as conn:
                return await conn.query("SELECT 1")

        assert anyio.run(connect) == [("1",)]
    finally:
        srv.stop()
