"""The ``minio`` health probe: MinIO's ``GET /minio/health/live`` on the API port, and which server answered.

A SeaweedFS server has no ``/minio/health/...``: it answers as SeaweedFS
(``Server`` header), so its own ``/healthz`` decides. The result's note names
the server (``SeaweedFS 4.48``), which ``infra status`` shows.

Its quick check (what the plan cache runs instead, with the standard library) asks ``GET /minio/health/live``
and expects an HTTP answer, whichever status: an S3 server answers there (which one was seen by the full
command that wrote the cache, and stays the same while its process does).
"""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import HealthProbe, PresetConfig, ProbeResult, QuickCheck

from .server import identify

LIVE = "/minio/health/live"


class S3Check(PresetConfig):
    port: str = "api"


class S3Probe(HealthProbe):
    name = "minio"
    spec_model = S3Check

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        import httpx

        if isinstance(spec, dict):
            spec = S3Check.model_validate(spec)
        host = f"[{target.host}]" if ":" in target.host else target.host
        base = f"http://{host}:{target.port(spec.port)}"
        start = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=False) as client:  # plain http: no certificates to load
                response = await client.get(base + LIVE)
                info = identify(response.headers.get("server"))
                path = LIVE
                if info.kind == "seaweedfs" and response.status_code != 200:
                    path = "/healthz"
                    response = await client.get(base + path)
                elif info.kind == "other" and response.status_code == 200:
                    # a MinIO-contract front (the test stand-in's proxy): the S3 answers say who serves
                    info = identify((await client.get(base + "/")).headers.get("server"))
        except httpx.HTTPError as exc:
            return ProbeResult(False, f"GET {base}{LIVE}: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            return ProbeResult(False, f"GET {base}{path}: status {response.status_code} ({info.label})")
        return ProbeResult(True, f"GET {base}{path}: 200 ({info.label})", elapsed, note=f"S3 server: {info.label}")

    def quick_check(self, spec: Any, target: Any) -> QuickCheck:
        if isinstance(spec, dict):
            spec = S3Check.model_validate(spec)
        request = f"GET {LIVE} HTTP/1.0\r\nHost: {target.host}\r\n\r\n".encode()
        return QuickCheck.tcp(target.host, target.port(spec.port), send=request, expect=(b"HTTP/1.",))
