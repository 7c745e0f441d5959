"""The ``postgres`` health probe: healthy when the server answers ``SELECT 1`` over TCP."""

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
        import psycopg

        if isinstance(spec, dict):
            spec = PostgresCheck.model_validate(spec)
        port = target.port("main")
        user = target.service.config.get("user", "postgres")
        start = time.perf_counter()
        try:
            conn = await psycopg.AsyncConnection.connect(
                host=target.host, port=port, user=user, password=target.secret("password"),
                dbname=spec.database, connect_timeout=max(1, int(timeout)),
            )
        except psycopg.Error as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return ProbeResult(False, f"postgres {target.host}:{port}: {msg}")
        try:
            async with conn:
                await conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return ProbeResult(False, f"postgres {target.host}:{port}: {exc}")
        return ProbeResult(True, f"postgres {target.host}:{port}: SELECT 1 ok", (time.perf_counter() - start) * 1000)

    def container_probe(self, spec: Any, ports: Any, service: Any) -> ContainerProbe:
        """``pg_isready`` inside the container: the server accepts connections (no password needed)."""
        user = str(service.config.get("user") or "postgres")
        return ContainerProbe("exec", command=("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(ports.get("main", 5432)), "-U", user, "-d", spec.database))
