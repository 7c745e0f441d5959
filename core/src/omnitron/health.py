"""Health probes: the interface and the built-in ``tcp``, ``http`` and ``command`` probes."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from .model import CommandCheck, HttpCheck, TcpCheck

if TYPE_CHECKING:
    from .runtime import ServiceHandle


@dataclass
class ProbeResult:
    ok: bool
    detail: str
    elapsed_ms: float = 0.0
    note: str | None = None
    """What the probe learned about a healthy server (``SeaweedFS 4.48``), shown by ``infra status``."""


class HealthProbe(ABC):
    """One kind of health probe, named by its key under ``healthCheck``."""

    name: ClassVar[str]
    spec_model: ClassVar[type[BaseModel]]

    @abstractmethod
    async def check(self, spec: Any, target: ServiceHandle, timeout: float) -> ProbeResult:
        """Probe once; never raise for an unhealthy service, return ``ok=False``."""


class TcpProbe(HealthProbe):
    """Healthy when the port accepts a connection that stays open.

    A published Docker port is answered by Docker's proxy even when nothing
    listens in the container: the proxy accepts, then closes at once. So after
    connecting the probe waits briefly; a connection closed by the peer within
    that window counts as not listening.
    """

    name = "tcp"
    spec_model = TcpCheck
    settle: ClassVar[float] = 0.015
    """Seconds a fresh connection must stay open."""

    async def check(self, spec: TcpCheck, target: ServiceHandle, timeout: float) -> ProbeResult:
        import anyio

        port = target.port(spec.port)
        start = time.perf_counter()
        try:
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(target.host, port)
            async with stream:
                with anyio.move_on_after(self.settle):
                    try:
                        await stream.receive(1)
                    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                        return ProbeResult(False, f"tcp {target.host}:{port}: connection closed at once (nothing listening behind it)")
        except TimeoutError:
            return ProbeResult(False, f"tcp {target.host}:{port}: timed out after {timeout:g}s")
        except OSError as exc:
            return ProbeResult(False, f"tcp {target.host}:{port}: {exc.strerror or exc}")
        return ProbeResult(True, f"tcp {target.host}:{port}: open", (time.perf_counter() - start) * 1000)


class HttpProbe(HealthProbe):
    name = "http"
    spec_model = HttpCheck

    async def check(self, spec: HttpCheck, target: ServiceHandle, timeout: float) -> ProbeResult:
        import httpx

        port = target.port(spec.port)
        url = f"{spec.scheme}://{target.host}:{port}{spec.path}"
        start = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=False) as client:
                resp = await client.get(url)
        except httpx.HTTPError as exc:
            return ProbeResult(False, f"GET {url}: {type(exc).__name__}: {exc}")
        if resp.status_code != spec.status:
            return ProbeResult(False, f"GET {url}: status {resp.status_code}, expected {spec.status}")
        return ProbeResult(True, f"GET {url}: {resp.status_code}", (time.perf_counter() - start) * 1000)


class CommandProbe(HealthProbe):
    name = "command"
    spec_model = CommandCheck

    async def check(self, spec: CommandCheck, target: ServiceHandle, timeout: float) -> ProbeResult:
        import anyio

        start = time.perf_counter()
        try:
            with anyio.fail_after(timeout):
                result = await target.exec(list(spec.exec))
        except TimeoutError:
            return ProbeResult(False, f"{' '.join(spec.exec)}: timed out after {timeout:g}s")
        tail = result.output.strip().splitlines()[-1:] if result.output.strip() else []
        detail = f"{' '.join(spec.exec)}: exit {result.exit_code}" + (f" ({tail[0][:200]})" if tail else "")
        return ProbeResult(result.exit_code == 0, detail, (time.perf_counter() - start) * 1000)


BUILTIN_PROBES: tuple[type[HealthProbe], ...] = (TcpProbe, HttpProbe, CommandProbe)
