"""The process provider's quick checks and those of the postgres and redis probes, against real servers it runs.

What the plan cache runs instead of asking the provider and probing (:mod:`omnitron.quickcheck`): each must
pass while the service runs as it was seen, and fail once it is gone or is another process.
"""

from __future__ import annotations

import os
import signal
from types import SimpleNamespace

import pytest

from omnitron.api import free_port
from omnitron_postgres.probe import PostgresCheck, PostgresProbe
from omnitron_redis.probe import RedisProbe
from process_testlib import postgres_eco, redis_eco, wait_dead

pytestmark = pytest.mark.anyio


def target(port: int, **config: str) -> SimpleNamespace:
    """What a probe sees of a service (``host``, ``port(name)``, ``service.config``)."""
    return SimpleNamespace(host="127.0.0.1", port=lambda name: port, service=SimpleNamespace(config=config))


async def answered(check, within: float = 10.0) -> bool:
    """Whether ``check`` passes within ``within`` seconds (a server that has just started may still be starting up)."""
    import anyio

    with anyio.move_on_after(within):
        while check.run() is not None:
            await anyio.sleep(0.05)
        return True
    return False


def passing(checks) -> bool:
    return all(check.run() is None for check in checks)


async def test_redis_passes_while_it_runs_and_fails_once_killed_or_restarted(env):
    port = free_port()
    env.write(redis_eco(port))
    provider = env.provider()
    state = await provider.ensure(env.runtime_spec("cache"))
    checks = provider.quick_checks(state)
    protocol = RedisProbe().quick_check(None, target(port))
    assert checks and passing(checks)
    assert protocol.run() is None  # PING without AUTH: -NOAUTH from a server with a password
    rec = env.record("cache", "dev")
    os.killpg(rec.pgid, signal.SIGKILL)
    wait_dead(rec.pid)
    assert not passing(checks)
    assert protocol.run() is not None
    restarted = await provider.ensure(env.runtime_spec("cache"))
    assert restarted.container_id != state.container_id
    assert not passing(checks)  # the checks of the process seen before do not pass for another one
    assert passing(provider.quick_checks(restarted)) and protocol.run() is None


async def test_postgres_accepts_the_startup_packet_until_it_stops(env):
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    state = await provider.ensure(env.runtime_spec("db"))
    protocol = PostgresProbe().quick_check(PostgresCheck(), target(port, user="postgres"))
    assert passing(provider.quick_checks(state))
    assert await answered(protocol)  # an authentication request: it accepts connections
    await provider.stop("db")
    assert not passing(provider.quick_checks(state))
    assert protocol.run() is not None
