"""The bare-metal provider at work: find the servers, probe each with the service's declared probes, choose one.

``ensure`` waits (up to the service's ``startupTimeout``) until a server is
healthy, then reports it (``ContainerState.host``/``ports``, with why it was
chosen and how every other one is): the engine points the service there and
records it, so apps' env, the preset's ``prepare``/``allocate`` and later
commands use it. A failed server is passed over for the next healthy one by
weight (failover) at the next ``up`` or ``omnitron run``. ``observe``
(``infra status``) probes once. Nothing is ever started, stopped or removed:
``list_managed`` is empty, so ``down`` and ``reset`` leave the servers alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from omnitron.api import ContainerState, ExecResult, ProvisionError, RuntimeSpec, StartupTimeout, poll_attempts

from .backend import DiscoveryError, DiscoveryQuery, Server
from .choice import Probed, candidates, choose, none_healthy, ranked
from .describe import BareMetalProvider, backends


class BareMetalRunner(BareMetalProvider):
    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        return await self._resolve(spec, wait=True)

    async def observe(self, spec: RuntimeSpec) -> ContainerState:
        return await self._resolve(spec, wait=False)

    async def _resolve(self, spec: RuntimeSpec, *, wait: bool) -> ContainerState:
        svc = spec.service
        config = svc.bare_metal
        if config is None or spec.probe is None or spec.secret is None:
            raise ProvisionError(f"service {svc.name}: the bare-metal provider needs the engine's runtime spec (with probe and secret)")
        _check_secrets(spec)
        backend = backends(self.ctx.plugins)[config.discovery]
        query = DiscoveryQuery(svc.name, config, backend.parse(config), dict(svc.target_ports), spec.secret)
        what = backend.describe(config, query.options)
        self.ctx.progress(svc.name, "starting", what)
        probed: list[Probed] = []
        timeout = svc.startup_timeout_ms / 1000 if wait else 0
        async for attempt in poll_attempts(timeout, first=0.1, cap=1.0):
            probed = await self._probe_all(spec, await self._discover(backend, query, svc.origin))
            chosen, reason = choose(probed)
            if chosen is not None:
                self.ctx.progress(svc.name, "waiting", f"{chosen.server.address}: {reason}")
                return self._state(spec, what, probed, chosen, reason)
            if wait:
                self.ctx.progress(svc.name, "waiting", none_healthy(probed, what))
        message = none_healthy(probed, what)
        if wait:
            raise StartupTimeout(f"service {svc.name}: {message}")
        return self._state(spec, what, probed, None, message)

    async def _discover(self, backend: Any, query: DiscoveryQuery, origin: str) -> list[Server]:
        try:
            return ranked(await backend.discover(query))
        except DiscoveryError as exc:
            where = f"{origin}.{exc.field}" if exc.field and origin else origin
            raise ProvisionError(f"{where}: {exc.message}" if where else exc.message) from None

    async def _probe_all(self, spec: RuntimeSpec, servers: list[Server]) -> list[Probed]:
        import anyio

        results: list[Probed | None] = [None] * len(servers)

        async def one(i: int, server: Server) -> None:
            result = await spec.probe(server.host, server.ports)
            results[i] = Probed(server, result.ok, result.detail)

        async with anyio.create_task_group() as tg:
            for i, server in enumerate(servers):
                tg.start_soon(one, i, server)
        return [r for r in results if r is not None]

    def _state(self, spec: RuntimeSpec, what: str, probed: list[Probed], chosen: Probed | None, reason: str) -> ContainerState:
        svc = spec.service
        return ContainerState(
            name=svc.name,
            image=f"{what}: {chosen.server.address}" if chosen else what,
            status="running" if chosen else "not_found",
            health="healthy" if chosen else "unhealthy",
            ports=dict(chosen.server.ports) if chosen else None,
            host=chosen.server.host if chosen else None,
            reason=reason if chosen else None,
            error=None if chosen else reason,
            candidates=candidates(probed, chosen),
            provider=self.name,
            spec_hash=svc.spec_hash,
        )

    async def list_managed(self) -> dict[str, ContainerState]:
        return {}  # nothing here is omnitron's to stop or remove

    async def stop(self, name: str) -> None:
        return None

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        return None

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        raise ProvisionError(f"service {name} runs on an existing server: omnitron does not run it and has no logs of it; look at the server itself")
        yield ""  # pragma: no cover  (makes this an async generator)

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        raise ProvisionError(
            f"service {name} runs on an existing server: omnitron cannot run {command[0]!r} there; "
            "use a tcp, http or plugin probe (e.g. postgres, redis) instead of a command probe"
        )


def _check_secrets(spec: RuntimeSpec) -> None:
    """Every secret the service declares is set: an existing server's credentials are the user's to store, never generated."""
    svc = spec.service
    for logical, key in sorted(svc.secrets.items()):
        try:
            spec.secret(logical)  # type: ignore[misc]
        except LookupError:
            raise ProvisionError(
                f"service {svc.name}: secret {logical!r} is not set: it is the existing server's, so omnitron cannot generate it; "
                f"store it with `omnitron secret set {key}`"
            ) from None
