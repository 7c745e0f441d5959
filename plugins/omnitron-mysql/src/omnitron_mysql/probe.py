"""The ``mysql`` health probe: healthy when the server answers ``SELECT 1`` as root over TCP."""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import ContainerProbe, HealthProbe, PresetConfig, ProbeResult

from .sql import Target, driver_errors, first_line, run_async


class MysqlCheck(PresetConfig):
    user: str = "root"
    """The account to log in as (its password is the service's ``password`` secret)."""


class MysqlProbe(HealthProbe):
    name = "mysql"
    spec_model = MysqlCheck

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        if isinstance(spec, dict):
            spec = MysqlCheck.model_validate(spec)
        port = target.port("main")
        where = f"mysql {target.host}:{port}"
        start = time.perf_counter()
        try:
            account = Target(user=spec.user, password=target.secret("password"), host=target.host, port=port)
            rows = await run_async(account, [("SELECT 1", None)], timeout=timeout)
        except driver_errors() as exc:
            return ProbeResult(False, f"{where}: {first_line(exc)}")
        if rows != [[(1,)]]:
            return ProbeResult(False, f"{where}: SELECT 1 returned {rows!r}")
        return ProbeResult(True, f"{where}: SELECT 1 ok", (time.perf_counter() - start) * 1000)

    def container_probe(self, spec: Any, ports: Any, service: Any) -> ContainerProbe:
        """``mysqladmin ping`` inside the container: exit 0 once the server answers (even refusing the login)."""
        return ContainerProbe("exec", command=("mysqladmin", "ping", "--silent", "-h", "127.0.0.1", "-P", str(ports.get("main", 3306))))
