"""The direct protocol exchange the probe and the DB-index check use, against a real Redis server."""

from __future__ import annotations

import socket
import threading

import pytest

from omnitron.testing import free_port, unavailable
from omnitron_redis.resp import RedisReplyError, command, ping
from omnitron_test_servers import ServerUnavailable, start_redis

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server():
    try:
        srv = start_redis()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    yield srv
    srv.stop()


def test_commands_are_resp_arrays_of_bulk_strings():
    assert command("AUTH", "p@ss wörd") == b"*2\r\n$4\r\nAUTH\r\n$10\r\np@ss w\xc3\xb6rd\r\n"
    assert command("SELECT", 3) == b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"


async def test_the_right_password_and_an_existing_index_answer_pong(server):
    assert await ping(server.host, server.port, password=server.password) == "PONG"
    assert await ping(server.host, server.port, password=server.password, db=15) == "PONG"


async def test_a_wrong_password_is_refused_by_auth(server):
    with pytest.raises(RedisReplyError) as err:
        await ping(server.host, server.port, password="not-" + server.password)
    assert err.value.command == "AUTH"


async def test_no_password_is_refused(server):
    with pytest.raises(RedisReplyError) as err:
        await ping(server.host, server.port, password=None)
    assert err.value.command == "PING" and "NOAUTH" in str(err.value)


async def test_an_index_the_server_lacks_is_refused_by_select(server):
    with pytest.raises(RedisReplyError) as err:
        await ping(server.host, server.port, password=server.password, db=16)
    assert err.value.command == "SELECT"


async def test_nothing_listening_is_an_os_error():
    with pytest.raises(OSError):
        await ping("127.0.0.1", free_port(), password="x", timeout=2)


async def test_a_server_that_closes_at_once_is_a_connection_error_not_healthy():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def close_each() -> None:
        conn, _ = listener.accept()
        conn.close()

    thread = threading.Thread(target=close_each, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConnectionError):
            await ping("127.0.0.1", listener.getsockname()[1], password="x", timeout=5)
    finally:
        listener.close()


async def test_a_server_that_never_answers_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        with pytest.raises(TimeoutError):
            await ping("127.0.0.1", listener.getsockname()[1], password="x", timeout=0.5)
    finally:
        listener.close()


def test_up_and_status_on_a_redis_never_import_the_client_library(server, tmp_path, omnitron_isolated):
    """A behaviour guard, not a timing: the probe and the DB-index check speak the protocol themselves."""
    import json
    import os

    from omnitron.testing import modules_imported_by

    eco = {
        "project": "shop",
        "apps": [{"name": "web"}],
        "infrastructure": {"services": {"cache": {"preset": "redis", "startupTimeout": "2s"}}},
        "stacks": {"dev": {"serviceOverrides": {"cache": {"external": {"host": server.host, "ports": {"main": server.port}}}}}},
    }
    (tmp_path / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    (tmp_path / "apps" / "web" / "config").mkdir(parents=True)
    (tmp_path / "apps" / "web" / "config" / "default.json").write_text(json.dumps({"omnitron": {"redis": True}}))
    env = {**os.environ, "OMNITRON_PLUGINS": "redis", "OMNITRON_PROJECT": str(tmp_path)}
    code, _ = modules_imported_by(["secret", "set", "--", "shop/dev/cache/password", server.password], env=env)
    assert code == 0
    for argv in (["infra", "up", "--json"], ["infra", "status", "--json"]):
        code, imported = modules_imported_by(argv, env=env)
        assert code == 0, argv  # healthy: the probe authenticated
        assert "redis" not in imported and "omnitron_redis" in imported, argv
    modules_imported_by(["secret", "set", "shop/dev/cache/password", "wrong-" + server.password], env=env)
    code, _ = modules_imported_by(["infra", "up", "--json"], env=env)
    assert code == 1  # a wrong password is not healthy
