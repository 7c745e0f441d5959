"""The ``postgres`` health probe: healthy when the server authenticates us and answers ``SELECT 1`` over TCP (:mod:`.wire`)."""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import ContainerProbe, HealthProbe, PresetConfig, ProbeResult


class PostgresCheck(PresetConfig):
    database: str = "postgres"


class PostgresProbe(HealthProbe):
    name = "postgres"
    spec_model = PostgresCheck

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        from .wire import PgError, connect

        if isinstance(spec, dict):
            spec = PostgresCheck.model_validate(spec)
        port = target.port("main")
        user = target.service.config.get("user", "postgres")
        start = time.perf_counter()
        try:
            async with await connect(target.host, port, user=user, password=target.secret("password"), dbname=spec.database, timeout=max(1.0, timeout)) as conn:
                rows = await conn.query("SELECT 1")
        except (PgError, OSError) as exc:
            return ProbeResult(False, f"postgres {target.host}:{port}: {exc}")
        if rows != [("1",)]:
            return ProbeResult(False, f"postgres {target.host}:{port}: SELECT 1 returned {rows!r}")
        return ProbeResult(True, f"postgres {target.host}:{port}: SELECT 1 ok", (time.perf_counter() - start) * 1000)

    def container_probe(self, spec: Any, ports: Any, service: Any) -> ContainerProbe:
        """``pg_isready`` inside the container: the server accepts connections (no password needed)."""
        user = str(service.config.get("user") or "postgres")
        return ContainerProbe("exec", command=("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(ports.get("main", 5432)), "-U", user, "-d", spec.database))
