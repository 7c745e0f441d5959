"""The ``external`` provider: a server omnitron does not run (``external: {host, ports}``).

Nothing is started, stopped or removed. Its state comes from a TCP probe of
its ports; health still goes through the service's declared probes. Commands
cannot run "where it runs", so ``exec`` (and with it ``command`` probes) is
refused with a clear error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .errors import ProvisionError
from .providers import ContainerState, ExecResult, Provider, RuntimeSpec

if TYPE_CHECKING:
    from .plan import PlannedService

CONNECT_TIMEOUT = 2.0


async def _answers(host: str, port: int, timeout: float) -> str | None:
    """``None`` when a TCP connection succeeds, else why not."""
    import anyio

    try:
        with anyio.fail_after(timeout):
            stream = await anyio.connect_tcp(host, port)
            await stream.aclose()
    except TimeoutError:
        return f"{host}:{port}: no answer within {timeout:g}s"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
    return None


EXTERNAL = "external"
"""The provider of services a stack points elsewhere (``serviceOverrides.<svc>.external``)."""


class ExternalProvider(Provider):
    """Points at an existing server; provisions nothing (built in, registered beside this interface)."""

    name = EXTERNAL
    runs_from = None
    manages_lifecycle = False
    auto_priority = None

    @classmethod
    def can_run(cls, requirement, preset) -> bool:
        return False  # only a stack's external override sends a service here

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        svc = spec.service
        problems = [p for p in [await _answers(svc.host, port, CONNECT_TIMEOUT) for port in svc.ports.values()] if p]
        running = not problems
        self.ctx.progress(svc.name, "starting", f"external at {svc.host}" + ("" if running else f" ({problems[0]})"))
        return ContainerState(
            name=svc.name,
            image=f"external {svc.host}",
            status="running" if running else "not_found",
            ports=dict(svc.ports),
            health=None,
            error="; ".join(problems) or None,
            provider=self.name,
            spec_hash=svc.spec_hash,
        )

    async def list_managed(self) -> dict[str, ContainerState]:
        return {}

    def quick_checks(self, state: ContainerState) -> list:
        """Nothing of its own: the server is reached (and judged) by the service's probes' quick checks."""
        return []

    async def stop(self, name: str) -> None:
        return None

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        return None

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        raise ProvisionError(f"service {name} is external: omnitron does not run it and has no logs for it; look at the server itself")
        yield ""  # pragma: no cover  (makes this an async generator)

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None, input: bytes | None = None) -> ExecResult:
        raise ProvisionError(
            f"service {name} is external: omnitron cannot run {command[0]!r} where it runs; "
            "use a tcp, http or plugin probe (e.g. postgres, redis) instead of a command probe"
        )

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        return []
