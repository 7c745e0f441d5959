"""Real PostgreSQL and Redis servers started natively on 127.0.0.1, and projects whose services run on them as bare metal."""

from __future__ import annotations

import uuid

import pytest

from omnitron.testing import backend_for, unavailable
from omnitron_test_servers import ServerUnavailable, start_postgres, start_redis

PASSWORD = "s3cr et@p:a/ss?#%&+'é"
"""Every server's admin password: characters a URL must percent-encode."""


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
    server = _started(start_redis, password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch, omnitron_isolated):
    monkeypatch.setenv("OMNITRON_PLUGINS", "baremetal,postgres,redis")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def servers(*entries) -> list[dict]:
    """``servers`` of a static declaration: ``(server, weight)`` pairs."""
    return [{"host": s.host, "port": s.port, "weight": w} for s, w in entries]


def prod(services: dict, apps: dict | None = None, *, overrides: dict | None = None) -> dict:
    """An ecosystem whose default stack ``prod`` is remote (bare-metal parts are read there)."""
    stack = {"type": "remote", **({"serviceOverrides": overrides} if overrides else {})}
    return {"project": "shop", "infrastructure": {"services": services}, "stacks": {"dev": {}, "prod": stack}, "defaultStack": "prod"}


def pg_service(entries, *, user: str | None = None, secret: str = "pg-admin") -> dict:
    service = {"preset": "postgres", "bareMetal": {"servers": servers(*entries)}, "secrets": {"password": {"secret": secret}}}
    if user:
        service["config"] = {"user": user}
    return service


def write(factory, services: dict, apps: dict | None = None, *, secrets: dict[str, str] | None = None, **kw):
    project = factory.write(prod(services, **kw), apps)
    backend = backend_for(project)
    for key, value in (secrets or {"pg-admin": PASSWORD, "redis-pw": PASSWORD}).items():
        backend.set(key, value)
    return project
