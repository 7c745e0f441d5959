"""Real PostgreSQL and Redis servers started natively on 127.0.0.1 (the machine's binaries)."""

from __future__ import annotations

import pytest
from baremetal_testlib import PASSWORD, REDIS_PASSWORD

from omnitron.testing import unavailable
from omnitron_test_servers import ServerUnavailable, start_postgres, start_redis


def _started(start, **kwargs):
    try:
        return start(**kwargs)
    except ServerUnavailable as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def pg_pair():
    """Two PostgreSQL servers with the same admin password (for weights)."""
    servers = [_started(start_postgres, password=PASSWORD) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def own_pg_pair():
    """Two PostgreSQL servers of this test's own (it may stop one)."""
    servers = [_started(start_postgres, password=PASSWORD) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = _started(start_redis, password=REDIS_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch, omnitron_isolated):
    monkeypatch.setenv("OMNITRON_PLUGINS", "baremetal,postgres,redis")
