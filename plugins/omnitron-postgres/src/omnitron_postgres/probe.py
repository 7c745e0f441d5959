"""The ``postgres`` health probe: healthy when the server authenticates us and answers ``SELECT 1`` over TCP (:mod:`.wire`).

A server that answers "starting up" (SQLSTATE 57P03) is asked again within milliseconds, for a moment, inside
the same check: it listens a moment before it is ready, and is usually ready before the gate's next attempt.

Its quick check (what the plan cache runs instead, with the standard library) sends a startup packet and
expects an authentication request (``R``) back: the server accepts connections for that user and database.
One starting up, shutting down or out of connections answers an error (``E``) instead. It does not log in:
the password was proven by the full command that wrote the cache, and cannot change without the secret
store changing, which invalidates the cache.
"""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import ContainerProbe, HealthProbe, PresetConfig, ProbeResult, QuickCheck

PROTOCOL_3 = 196608
"""The protocol version of a startup packet (3.0)."""
CANNOT_CONNECT_NOW = "57P03"
"""The SQLSTATE of a server starting up (or shutting down): it says so once it listens, a moment before it is ready."""
SOON_S = 0.004
SOON_FOR_S = 0.020
"""A check that meets :data:`CANNOT_CONNECT_NOW` asks again every ``SOON_S`` for up to ``SOON_FOR_S``: a server
starting up is usually ready by then, sooner than the gate's next attempt."""


class PostgresCheck(PresetConfig):
    database: str = "postgres"


class PostgresProbe(HealthProbe):
    name = "postgres"
    spec_model = PostgresCheck

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        import anyio

        from .wire import PgError, connect

        if isinstance(spec, dict):
            spec = PostgresCheck.model_validate(spec)
        port = target.port("main")
        user = target.service.config.get("user", "postgres")
        start = time.perf_counter()
        while True:
            began = time.perf_counter()
            try:
                async with await connect(target.host, port, user=user, password=target.secret("password"), dbname=spec.database, timeout=max(1.0, timeout)) as conn:
                    rows = await conn.query("SELECT 1")
                break
            except PgError as exc:
                if exc.code != CANNOT_CONNECT_NOW or time.perf_counter() - start >= SOON_FOR_S:
                    return ProbeResult(False, f"postgres {target.host}:{port}: {exc}")
            except OSError as exc:
                return ProbeResult(False, f"postgres {target.host}:{port}: {exc}")
            await anyio.sleep(SOON_S)
        if rows != [("1",)]:
            return ProbeResult(False, f"postgres {target.host}:{port}: SELECT 1 returned {rows!r}")
        return ProbeResult(True, f"postgres {target.host}:{port}: SELECT 1 ok", (time.perf_counter() - began) * 1000)

    def quick_check(self, spec: Any, target: Any) -> QuickCheck:
        import struct

        if isinstance(spec, dict):
            spec = PostgresCheck.model_validate(spec)
        user = str(target.service.config.get("user", "postgres"))
        params = b"user\0" + user.encode() + b"\0database\0" + spec.database.encode() + b"\0\0"
        packet = struct.pack("!ii", 8 + len(params), PROTOCOL_3) + params
        return QuickCheck.tcp(target.host, target.port("main"), send=packet, expect=(b"R",))

    def container_probe(self, spec: Any, ports: Any, service: Any) -> ContainerProbe:
        """``pg_isready`` inside the container: the server accepts connections (no password needed)."""
        user = str(service.config.get("user") or "postgres")
        return ContainerProbe("exec", command=("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(ports.get("main", 5432)), "-U", user, "-d", spec.database))
