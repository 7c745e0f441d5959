"""The ``redis`` health probe: healthy when ``PING`` (after ``AUTH``) answers ``PONG`` (spoken directly, see :mod:`.resp`).

Its quick check (what the plan cache runs instead, with the standard library) sends ``PING`` without
``AUTH``: ``+PONG``, or ``-NOAUTH`` from a server with a password, says a Redis answers there. The password
was proven by the full command that wrote the cache, and cannot change without the secret store changing.
"""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import ContainerProbe, HealthProbe, PresetConfig, ProbeResult, QuickCheck


class RedisCheck(PresetConfig):
    pass


class RedisProbe(HealthProbe):
    name = "redis"
    spec_model = RedisCheck

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        from .resp import RedisReplyError, ping

        port = target.port("main")
        start = time.perf_counter()
        try:
            pong = await ping(target.host, port, password=target.secret("password"), timeout=timeout)
        except (RedisReplyError, OSError) as exc:
            return ProbeResult(False, f"redis {target.host}:{port}: {type(exc).__name__}: {exc}")
        return ProbeResult(pong == "PONG", f"redis {target.host}:{port}: PING -> {pong}", (time.perf_counter() - start) * 1000)

    def quick_check(self, spec: Any, target: Any) -> QuickCheck:
        return QuickCheck.tcp(target.host, target.port("main"), send=b"PING\r\n", expect=(b"+PONG", b"-NOAUTH"))

    def container_probe(self, spec: Any, ports: Any, service: Any) -> ContainerProbe:
        """``redis-cli ping`` inside the container: the server answers (``PONG``, or ``NOAUTH`` without the password,
        which stays off the command line)."""
        port = str(ports.get("main", 6379))
        return ContainerProbe("exec", command=("sh", "-c", f"redis-cli -h 127.0.0.1 -p {port} ping | grep -qE 'PONG|NOAUTH'"))
