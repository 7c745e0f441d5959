"""The swarm provider's work: each service a Swarm service of the project's overlay network, found again by labels.

``ensure`` creates the service, or updates it in place when its spec hash (or
its rendered env, arguments or secrets) changed: Swarm rolls the change out
task by task (stop first, rolled back when the new task fails), and ``ensure``
returns once a task of the new spec runs. Secrets are Docker secrets mounted
as files (one per content: a changed secret is a new one, the old one goes
once no service uses it). Unhealthy or killed tasks are replaced by Swarm
itself, from the health check translated in :mod:`.health`.
"""

from __future__ import annotations

from typing import Any

import anyio

from omnitron.api import ContainerState, ProviderContext, ProvisionError, RuntimeSpec, StartupTimeout, container_probes, poll_attempts

from .body import service_body
from .client import Engine
from .health import translated
from .logs import LogsMixin
from .mesh import Routing, default_routing
from .naming import LABEL_RUNTIME_HASH, LABEL_SERVICE, LABEL_SPEC_HASH, label_filter, service_labels, service_name, stack_labels
from .provider import SwarmProvider
from .resources import ResourcesMixin
from .spec import Placement, container_ports, options, runtime_hash
from .state import from_service, is_current, running_tasks, status_of, waiting_for

REMOVAL_TIMEOUT_S = 60.0


class SwarmEngineProvider(LogsMixin, ResourcesMixin, SwarmProvider):
    """:class:`~.provider.SwarmProvider` with its methods (what ``SwarmProvider(ctx)`` makes)."""

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self._client: Engine | None = None
        self._closed = False
        self._network: str | None = None
        self._network_lock = anyio.Lock()
        self._routing: Routing | None = None

    def _engine(self) -> Engine:
        if self._closed:
            raise RuntimeError("this SwarmProvider is closed")
        if self._client is None:
            self._client = Engine()
        return self._client

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # -- finding our services ------------------------------------------------------

    async def _services(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        engine = self._engine()
        with engine.errors("listing swarm services"):
            found = await engine.docker.services.list(filters=label_filter(labels))
        return [s for s in found if (s.get("Spec") or {}).get("Labels", {}).get(LABEL_SERVICE)]

    async def _service(self, name: str) -> dict[str, Any] | None:
        found = await self._services(service_labels(self.ctx.project, self.ctx.stack, name))
        return found[0] if found else None

    async def _tasks(self, service_id: str) -> list[dict[str, Any]]:
        engine = self._engine()
        with engine.errors("listing swarm tasks"):
            return await engine.docker.tasks.list(filters={"service": service_id})

    async def _container(self, tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The running task's container, when this engine runs it (else ``None``)."""
        from .state import container_id

        running = running_tasks(tasks)
        cid = container_id(running[0]) if running else None
        if cid is None:
            return None
        engine = self._engine()
        try:
            return await engine.call(f"containers/{cid}/json")
        except engine.error:
            return None

    async def _state(self, service: dict[str, Any]) -> ContainerState:
        tasks = await self._tasks(service["ID"])
        return from_service(service, tasks, await self._container(tasks), provider=self.name)

    # -- ensure --------------------------------------------------------------------

    async def _placement(self, spec: RuntimeSpec) -> Placement:
        if self._routing is None:
            self._routing = default_routing()
        opts = options(spec)
        network = await self._ensure_network() if not (opts.network and opts.network.name == "host") else "host"
        return Placement(
            project=self.ctx.project, stack=self.ctx.stack, network=network, routing=self._routing,
            secrets=await self._ensure_secrets(spec), volumes=await self._volumes(spec), health=self._health(spec),
        )

    def _health(self, spec: RuntimeSpec) -> dict[str, Any] | None:
        svc = spec.service
        opts = options(spec)
        if opts.health_check is not None:
            return opts.health_check.engine_api()
        probes = getattr(self.ctx.plugins, "probes", None)
        if probes is None:
            return None
        found, missing = container_probes(svc, probes, container_ports(spec))
        if missing:
            self.ctx.progress(svc.name, "creating", f"no in-container form of probe {', '.join(missing)}: Swarm does not check it")
        hc = svc.health_check
        return translated(found, interval_ms=hc.interval if hc else 5_000, timeout_ms=hc.timeout if hc else 10_000, retries=hc.retries if hc else 10)

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Make the service run as planned: create it, scale it back up, or roll out a changed spec."""
        engine = self._engine()
        await engine.require_manager()
        svc = spec.service
        placement = await self._placement(spec)
        name = service_name(self.ctx.project, self.ctx.stack, svc.name)
        body = service_body(spec, placement, name=name)
        current = await self._service(svc.name)
        if current is None:
            endpoint = body["EndpointSpec"]
            routing = f"ports in {endpoint['Ports'][0]['PublishMode']} mode, {endpoint['Mode']}" if endpoint.get("Ports") else endpoint.get("Mode", "vip")
            self.ctx.progress(svc.name, "creating", f"swarm service {name} from {body['TaskTemplate']['ContainerSpec']['Image']} ({routing}: {placement.routing.reason})")
            with engine.errors(f"service {svc.name}: creating swarm service {name}"):
                created = await engine.call("services/create", method="POST", body=body)
            service_id = created["ID"]
        else:
            service_id = current["ID"]
            labels = current["Spec"].get("Labels") or {}
            same = labels.get(LABEL_SPEC_HASH) == svc.spec_hash and labels.get(LABEL_RUNTIME_HASH) == runtime_hash(spec, placement)
            scaled_down = ((current["Spec"].get("Mode") or {}).get("Replicated") or {}).get("Replicas") == 0
            if not same or scaled_down:
                reason = "spec changed: rolling update" if not same else "scaled to 0: starting again"
                self.ctx.progress(svc.name, "creating", f"{reason}; volumes are kept")
                with engine.errors(f"service {svc.name}: updating swarm service {name}"):
                    await engine.call(f"services/{service_id}/update", method="POST", body=body, params={"version": current["Version"]["Index"]})
        state = await self._converge(svc.name, service_id, svc.startup_timeout_ms / 1000)
        keep = {secret_name for _, secret_name in placement.secrets.values()}
        await self._remove_secrets(service_labels(self.ctx.project, self.ctx.stack, svc.name), keep=keep)
        return state

    async def _converge(self, name: str, service_id: str, timeout: float) -> ContainerState:
        """Wait until a task of the service's current spec has started (omnitron's probes gate it from there); fail when its
        tasks cannot start or the update was rolled back."""
        engine = self._engine()
        self.ctx.progress(name, "starting", "waiting for a task to run")
        detail = "no task ran"
        async for _ in poll_attempts(timeout, first=0.1, cap=1.0, factor=1.5):
            with engine.errors(f"service {name}: inspecting it"):
                service = await engine.docker.services.inspect(service_id)
            update = (service.get("UpdateStatus") or {}).get("State")
            if update in ("rollback_started", "rollback_completed", "rollback_paused", "paused"):
                message = (service.get("UpdateStatus") or {}).get("Message", "")
                raise ProvisionError(f"service {name}: the rolling update failed ({update}): {message}")
            tasks = await self._tasks(service_id)
            labels = service["Spec"].get("Labels") or {}
            if any(is_current(t, labels) for t in running_tasks(tasks)) and update in (None, "completed", "updating"):
                return from_service(service, tasks, await self._container(tasks), provider=self.name)
            status, error = status_of(service, tasks)
            if status == "dead":
                raise ProvisionError(f"service {name}: its swarm tasks cannot start: {error}")
            detail = waiting_for(tasks) or detail
        raise StartupTimeout(f"service {name}: no task of its current spec runs after {timeout:g}s (last: {detail})")

    # -- reading -------------------------------------------------------------------

    async def list_managed(self) -> dict[str, ContainerState]:
        """Every service of this project and stack (none when the engine is no swarm manager: nothing of ours can run there)."""
        engine = self._engine()
        with engine.errors("asking the Docker engine for its swarm state"):
            info = await engine.docker.system.info()
        if not (info.get("Swarm") or {}).get("ControlAvailable"):
            return {}
        out: dict[str, ContainerState] = {}
        for service in await self._services(stack_labels(self.ctx.project, self.ctx.stack)):
            state = await self._state(service)
            out[state.name] = state
        return dict(sorted(out.items()))

    async def status(self, name: str) -> ContainerState:
        service = await self._service(name)
        if service is None:
            return ContainerState(name=name, status="not_found", provider=self.name)
        return await self._state(service)

    # -- stopping and removing -------------------------------------------------------

    async def stop(self, name: str) -> None:
        """Scale the service to 0 tasks (its spec, secrets and volumes stay)."""
        service = await self._service(name)
        if service is None:
            return
        spec = service["Spec"]
        if ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas") == 0:
            return
        spec["Mode"] = {"Replicated": {"Replicas": 0}}
        engine = self._engine()
        with engine.errors(f"service {name}: scaling it to 0"):
            await engine.call(f"services/{service['ID']}/update", method="POST", body=spec, params={"version": service["Version"]["Index"]})

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        """Remove the service and its secrets; with ``volumes``, its volumes too. The network goes when no service is left."""
        labels = service_labels(self.ctx.project, self.ctx.stack, name)
        service = await self._service(name)
        if service is not None:
            engine = self._engine()
            with engine.errors(f"service {name}: removing it", ignore=(404,)):
                await engine.docker.services.delete(service["ID"])
        await self._settle(labels, volumes=volumes)
        if not await self._services(stack_labels(self.ctx.project, self.ctx.stack)):
            await self._settle(stack_labels(self.ctx.project, self.ctx.stack), volumes=False, network=True)

    async def remove_all_data(self) -> None:
        """``down --volumes``: every service, secret and volume of this project and stack, and its network."""
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        engine = self._engine()
        for service in await self._services(labels):
            with engine.errors("removing a swarm service", ignore=(404,)):
                await engine.docker.services.delete(service["ID"])
        await self._settle(labels, volumes=True, network=True)

    async def _settle(self, labels: dict[str, str], *, volumes: bool, network: bool = False) -> None:
        """Remove secrets, then (once the removed services' tasks are gone) volumes and the network; return when the
        tasks' containers are gone too (nothing of the removed services runs any more)."""
        pending: list[str] = []
        async for _ in poll_attempts(REMOVAL_TIMEOUT_S, first=0.2, cap=1.0, factor=1.5):
            await self._remove_secrets(labels)
            pending = await self._task_containers(labels)
            pending += await self._remove_volumes(labels) if volumes else []
            if network and not await self._remove_network():
                pending.append("network")
            if not pending:
                return
        raise ProvisionError(f"still in use after {REMOVAL_TIMEOUT_S:g}s, not removed: {', '.join(pending)}")
