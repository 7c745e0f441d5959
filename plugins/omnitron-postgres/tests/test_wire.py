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


async def test_statements_with_quoted_names_and_literals_and_the_unix_socket(server):
    """Utility statements take no parameters: names and strings go in quoted, and come back exactly as they were."""
    odd = 'we"ird; DROP DATABASE postgres; --'
    async with await wire.connect(str(server.data_dir), server.port, user=server.user, password=server.password, dbname="postgres") as conn:
        for text in ("it's", "back\\slash", "both ' and \\' and \"", "ünï"):
            assert await conn.query(f"SELECT {wire.quote_literal(text)}") == [(text,)]
        await conn.execute(f"CREATE DATABASE {wire.quote_ident(odd)}")  # refused inside a transaction block: the simple protocol
        try:
            assert await conn.query("SELECT datname FROM pg_database WHERE datname = $1", odd) == [(odd,)]
            assert await conn.query("SELECT 1 FROM pg_database WHERE datname = 'postgres'") == [("1",)]
            with pytest.raises(wire.PgError) as err:
                await conn.execute(f"CREATE DATABASE {wire.quote_ident(odd)}")
            assert err.value.code == "42P04"
        finally:
            await conn.execute(f"DROP DATABASE {wire.quote_ident(odd)}")
        with pytest.raises(ValueError):
            wire.quote_ident("a\0b")


async def test_a_scram_verifier_computed_here_is_what_libpq_logs_in_with(server):
    """``ALTER ROLE ... PASSWORD '<verifier>'``: the server keeps it as given, and libpq authenticates with the password."""
    import psycopg

    role, password = "verified_role", "pä'ss\\wörd"
    verifier = wire.scram_verifier(password)
    assert verifier.startswith("SCRAM-SHA-256$4096:") and password not in verifier
    async with await wire.connect(server.host, server.port, user=server.user, password=server.password, dbname="postgres") as conn:
        await conn.execute(f"DROP ROLE IF EXISTS {wire.quote_ident(role)}")
        await conn.execute(f"CREATE ROLE {wire.quote_ident(role)} LOGIN PASSWORD {wire.quote_literal(verifier)}")
        try:
            assert await conn.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role) == [(verifier,)]
            with psycopg.connect(host=server.host, port=server.port, user=role, password=password, dbname="postgres") as libpq:
                assert libpq.execute("SELECT current_user").fetchone() == (role,)
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(host=server.host, port=server.port, user=role, password=password + "x", dbname="postgres")
        finally:
            await conn.execute(f"DROP ROLE {wire.quote_ident(role)}")


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


def test_up_and_status_never_import_psycopg_and_a_missing_database_is_still_made(server, tmp_path, omnitron_isolated):
    """A behaviour guard, not a timing: making the app's database and the extensions, and finding them there, speak
    the wire protocol; a database dropped behind omnitron's back is made again."""
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
    assert modules_imported_by(["secret", "set", "--", "shop/dev/db/password", server.password], env=env)[0] == 0
    dsn = dict(host=server.host, port=server.port, user=server.user, password=server.password, autocommit=True)

    def extensions(dbname: str) -> list:
        with psycopg.connect(dbname=dbname, **dsn) as conn:
            return conn.execute("SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'").fetchall()

    for argv in (["infra", "up", "--json"], ["infra", "up", "--json"], ["infra", "status", "--json"]):
        code, imported = modules_imported_by(argv, env=env)
        assert code == 0, argv
        assert "psycopg" not in imported and "omnitron_postgres" in imported, argv
    assert extensions("web") == [("pgcrypto",)] and extensions("postgres") == [("pgcrypto",)]
    with psycopg.connect(dbname="postgres", **dsn) as conn:
        conn.execute("DROP DATABASE web")
    code, imported = modules_imported_by(["infra", "up", "--json"], env=env)
    assert code == 0 and "psycopg" not in imported
    assert extensions("web") == [("pgcrypto",)]


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
