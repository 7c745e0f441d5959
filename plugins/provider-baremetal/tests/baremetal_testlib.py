"""Helpers of the bare-metal tests: projects whose services run on existing servers."""

from __future__ import annotations

import uuid

from omnitron.testing import backend_for

PASSWORD = "s3cr et@p:a/ss?#%&+'é"
"""Every PostgreSQL server's admin password: characters a URL must percent-encode."""
REDIS_PASSWORD = "r3dis@p:a/ss?#%&+é"
"""The Redis server's (a redis.conf line cannot hold a quote)."""


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
    for key, value in (secrets or {"pg-admin": PASSWORD, "redis-pw": REDIS_PASSWORD}).items():
        backend.set(key, value)
    return project
