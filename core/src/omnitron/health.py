"""Health probes: the interface and the built-in ``tcp``, ``http`` and ``command`` probes."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from .model import CommandCheck, HttpCheck, TcpCheck

if TYPE_CHECKING:
    from .plan import PlannedService
    from .quickcheck import QuickCheck
    from .runtime import ServiceHandle


@dataclass
class ProbeResult:
    ok: bool
    detail: str
    elapsed_ms: float = 0.0
    note: str | None = None
    """What the probe learned about a healthy server (``SeaweedFS 4.48``), shown by ``infra status``."""


@dataclass(frozen=True)
class ContainerProbe:
    """A health probe as it runs where the service runs: what an engine's own health check does (a Swarm task's
    health check, a Kubernetes liveness or readiness probe).

    ``exec``: ``command`` run inside the container, exit 0 is healthy; ``tcp``: a connection to ``port`` (inside
    the container); ``http``: ``GET path`` on ``port`` answering ``status``.
    """

    kind: Literal["exec", "tcp", "http"]
    command: tuple[str, ...] = ()
    port: int | None = None
    path: str = "/"
    scheme: str = "http"
    status: int = 200

    def shell(self) -> str:
        """One shell command line that exits 0 when the probe passes inside the container (for engines that only exec:
        a TCP probe through bash's ``/dev/tcp`` or ``nc``, an HTTP one with ``curl`` or ``wget``)."""
        import shlex

        if self.kind == "exec":
            return shlex.join(self.command)
        port = int(self.port or 0)
        if self.kind == "tcp":
            return f"if command -v bash >/dev/null 2>&1; then bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'; else nc -z 127.0.0.1 {port}; fi"
        url = shlex.quote(f"{self.scheme}://127.0.0.1:{port}{self.path}")
        return (
            f"if command -v curl >/dev/null 2>&1; then test \"$(curl -ks -o /dev/null -w '%{{http_code}}' {url})\" = {int(self.status)}; "
            f"else wget -q -O /dev/null {url}; fi"
        )


class HealthProbe(ABC):
    """One kind of health probe, named by its key under ``healthCheck``."""

    name: ClassVar[str]
    spec_model: ClassVar[type[BaseModel]]

    @abstractmethod
    async def check(self, spec: Any, target: ServiceHandle, timeout: float) -> ProbeResult:
        """Probe once; never raise for an unhealthy service, return ``ok=False``."""

    def container_probe(self, spec: Any, ports: Mapping[str, int], service: PlannedService) -> ContainerProbe | None:
        """This probe as an engine runs it inside the service's container (pure), or ``None`` when it has no such form.

        :param spec: the probe's validated spec.
        :param ports: the service's ports inside the container, by name.
        """
        return None


    def quick_check(self, spec: Any, target: ServiceHandle) -> QuickCheck | None:
        """This probe as a cheap check the plan cache runs with the standard library alone (sync, no I/O here), or
        ``None`` when it has no such form (then the commands of a stack using it take their full path).

        It should prove what the probe proves short of authenticating: the server accepts connections and speaks
        its protocol (authentication was proven by the command that wrote the cache, see :mod:`omnitron.quickcheck`).

        :param spec: the probe's validated spec.
        :param target: the service as the probe would see it (``target.host``, ``target.port(name)``).
        """
        return None


def container_port(ref: int | str, ports: Mapping[str, int], service: PlannedService) -> int:
    """The port inside the container for a probe's ``port``: a declared port name, or a port number as declared."""
    if isinstance(ref, str) and ref in ports:
        return ports[ref]
    for name, declared in service.target_ports.items():
        if str(declared) == str(ref) and name in ports:
            return ports[name]
    return int(ref)


def declared_probes(svc: PlannedService, probes: Mapping[str, HealthProbe]) -> list[tuple[str, HealthProbe, Any]]:
    """``(name, probe, validated spec)`` of every probe declared for ``svc``; without a health check, TCP on each port."""
    from .errors import ProvisionError

    hc = svc.health_check
    if hc is None:
        return [("tcp", probes["tcp"], TcpCheck(port=name)) for name in sorted(svc.ports)]
    out: list[tuple[str, HealthProbe, Any]] = []
    for name in ("tcp", "http", "command"):
        spec = getattr(hc, name)
        if spec is not None:
            out.append((name, probes[name], spec))
    for name, raw in (hc.model_extra or {}).items():
        probe = probes.get(name)
        if probe is None:
            raise ProvisionError(f"service {svc.name}: health probe {name!r} is not installed; known: {', '.join(sorted(probes))}")
        out.append((name, probe, probe.spec_model.model_validate(raw or {})))
    return out


def container_probes(svc: PlannedService, probes: Mapping[str, HealthProbe], ports: Mapping[str, int]) -> tuple[list[ContainerProbe], list[str]]:
    """``svc``'s declared probes as run inside its container (pure), and the names of those that have no such form."""
    found: list[ContainerProbe] = []
    missing: list[str] = []
    for name, probe, spec in declared_probes(svc, probes):
        translated = probe.container_probe(spec, ports, svc)
        if translated is None:
            missing.append(name)
        else:
            found.append(translated)
    return found, missing


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

    def container_probe(self, spec: TcpCheck, ports: Mapping[str, int], service: PlannedService) -> ContainerProbe:
        return ContainerProbe("tcp", port=container_port(spec.port, ports, service))

    def quick_check(self, spec: TcpCheck, target: ServiceHandle) -> QuickCheck:
        from .quickcheck import QuickCheck

        return QuickCheck.tcp(target.host, target.port(spec.port))


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

    def container_probe(self, spec: HttpCheck, ports: Mapping[str, int], service: PlannedService) -> ContainerProbe:
        return ContainerProbe("http", port=container_port(spec.port, ports, service), path=spec.path, scheme=spec.scheme, status=spec.status)

    def quick_check(self, spec: HttpCheck, target: ServiceHandle) -> QuickCheck | None:
        from .quickcheck import QuickCheck

        if spec.scheme != "http":
            return None  # TLS needs ssl's import and certificates: the full path probes it
        return QuickCheck.http(spec.path, host=target.host, port=target.port(spec.port), status=spec.status)


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

    def container_probe(self, spec: CommandCheck, ports: Mapping[str, int], service: PlannedService) -> ContainerProbe:
        return ContainerProbe("exec", command=tuple(spec.exec))


class OwnHealthCheckProbe(HealthProbe):
    """Healthy when the provider reports the service's own health check healthy: Docker's, from the
    ``docker.healthCheck`` a service declares (``State.Health.Status``).

    Not declared under ``healthCheck``: the gate adds it for a service whose chosen run part declares a health
    check of its own (:func:`omnitron.engine.gate.checks_for`), so "healthy" means that check passes too.
    A provider that reports no health for the service (``none``) does not hold the gate.
    """

    name = "container"
    spec_model = BaseModel

    async def check(self, spec: Any, target: ServiceHandle, timeout: float) -> ProbeResult:
        start = time.perf_counter()
        if target.provider is None:
            return ProbeResult(False, "container: no provider to ask")
        state = (await target.provider.list_managed()).get(target.name)
        elapsed = (time.perf_counter() - start) * 1000
        if state is None or state.status != "running":
            return ProbeResult(False, f"container: {state.status if state else 'not_found'}", elapsed)
        if state.health in (None, "none", "healthy"):
            return ProbeResult(True, f"container: {state.health or 'none'} (its own health check)", elapsed)
        return ProbeResult(False, f"container: {state.health} (its own health check has not passed yet)", elapsed)


BUILTIN_PROBES: tuple[type[HealthProbe], ...] = (TcpProbe, HttpProbe, CommandProbe)
