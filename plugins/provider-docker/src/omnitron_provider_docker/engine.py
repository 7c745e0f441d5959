"""The docker provider's work: containers of the stack's network on 127.0.0.1 ports, found again by their labels.

Every container, volume and network it creates carries ``omnitron.*`` labels
(project, stack, service, spec hash) and is only ever found again by them;
objects without our labels are never modified or removed. Networks, volumes
and names live in :mod:`.resources`; the engine client in :mod:`.client`.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio

from omnitron.api import ContainerState, ExecResult, PlannedService, ProviderContext, ProvisionError, RuntimeSpec, addresses_overlap, describe_listeners, is_listening, task_group, text_lines

from . import client, engine_reads
from .client import NO_ENGINE_HINT
from .container_config import check_spec, requested_network, runtime_hash
from .container_state import from_inspect
from .naming import LABEL_PROJECT, LABEL_RUNTIME_HASH, LABEL_SERVICE, LABEL_SPEC_HASH, LABEL_STACK, is_managed, label_filter, owner_of, service_labels, stack_labels
from .provider import DockerProvider
from .creation import CreationMixin, gather
from .resources import ResourcesMixin
from .seeding import SeedingMixin

STOP_TIMEOUT_S = 10
UNFED_STOP_TIMEOUT_S = 2
"""Grace before ``SIGKILL`` for a container that may still wait for its config on stdin: as its init process it
ignores ``SIGTERM`` until its server has set up its handlers, so the usual grace would only be waited out."""
INSPECT_CONCURRENCY = 16
"""Containers inspected at once by :meth:`DockerEngineProvider.list_managed` (a stack of 100 is listed in tens of milliseconds)."""


class DockerEngineProvider(CreationMixin, ResourcesMixin, SeedingMixin, DockerProvider):
    """:class:`~.provider.DockerProvider` with its methods (what ``DockerProvider(ctx)`` makes)."""

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self._docker: Any = None
        self._closed = False
        self._network_lock = anyio.Lock()
        self._networks: set[str] = set()
        self._new_volumes: set[str] = set()
        self._created: dict[str, tuple[str, Any, str | None]] = {}
        self._builds: dict[str, threading.Thread] = {}
        self._abort_builds = threading.Event()

    def _client(self) -> Any:
        if self._closed:
            raise RuntimeError("this DockerProvider is closed")
        client.load_client()
        if self._docker is None:
            try:
                self._docker = client.aiodocker.Docker(timeout=client.ENGINE_TIMEOUT)
            except (ValueError, AssertionError) as exc:
                raise ProvisionError(f"no Docker engine configured ({exc}): {NO_ENGINE_HINT}") from None
        return self._docker

    async def __aexit__(self, *exc: object) -> None:
        await self._finish_builds(abort=exc[0] is not None)  # interrupted: stop building templates
        await self.aclose()

    async def aclose(self) -> None:
        """Wait for data templates being built, close the engine connection; the provider cannot be used afterwards."""
        await self._finish_builds(abort=False)
        self._closed = True
        if self._docker is not None:
            docker, self._docker = self._docker, None
            await docker.close()

    async def _call(self, method: str, url: str, *, params: dict[str, Any] | None = None, body: Any = None, timeout: float = 120.0) -> Any:
        """One Engine API request and its JSON answer: the standard library over a local socket, else aiodocker.

        :raises client.ApiError: the engine answered with an error (``status``, ``message``).
        """
        if self._closed:
            raise RuntimeError("this DockerProvider is closed")
        local = engine_reads.local_socket()
        if local is not None:
            return await anyio.to_thread.run_sync(lambda: engine_reads.request(local, method, url, params=params, body=body, timeout=timeout))
        query = {key: engine_reads.query_value(value) for key, value in (params or {}).items()}
        try:
            return await self._client()._query_json(url.lstrip("/"), method, params=query, data=body)
        except client.DockerError as exc:
            raise client.ApiError(exc.status, exc.message) from None

    def _engine_is_local(self) -> bool:
        host = os.environ.get("DOCKER_HOST", "")
        return not host or host.startswith("unix://")

    async def _list_containers(self, labels: dict[str, str] | None, *, all: bool = True) -> list[dict[str, Any]]:
        """Containers carrying every one of ``labels`` (all containers when ``None``)."""
        if self._closed:
            raise RuntimeError("this DockerProvider is closed")
        filters = label_filter(labels) if labels else {}
        local = engine_reads.local_socket()
        with client.docker_errors("listing containers"):
            if local is not None:
                return await anyio.to_thread.run_sync(lambda: engine_reads.list_containers(local, filters, all=all))
            found = await self._client().containers.list(all=all, filters=filters)
        return [c._container for c in found]

    async def _service_containers(self, service: str) -> list[dict[str, Any]]:
        return await self._list_containers(service_labels(self.ctx.project, self.ctx.stack, service))

    async def _inspect(self, container_id: str) -> dict[str, Any] | None:
        local = engine_reads.local_socket()
        if local is not None:
            with client.docker_errors(f"inspecting container {container_id[:12]}"):
                return await anyio.to_thread.run_sync(engine_reads.inspect_container, local, container_id)
        docker = self._client()
        try:
            container = await docker.containers.get(container_id)
        except client.DockerError as exc:
            if exc.status == 404:
                return None
            raise client.engine_error(f"inspecting container {container_id[:12]}", exc) from None
        return container._container

    async def _state(self, container_id: str, service: str) -> ContainerState:
        data = await self._inspect(container_id)
        if data is None:
            return ContainerState(name=service, status="not_found", provider=self.name)
        return from_inspect(data, provider=self.name)

    async def _one(self, service: str) -> dict[str, Any] | None:
        """The container of ``service`` (a running one first), or ``None``."""
        found = await self._service_containers(service)
        if not found:
            return None
        found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)), reverse=True)
        return found[0]

    async def _require(self, service: str) -> Any:
        data = await self._one(service)
        if data is None:
            raise ProvisionError(f"service {service}: no container in stack {self.ctx.stack} of project {self.ctx.project} (run `omnitron infra up`)")
        return self._client().containers.container(data["Id"]), data

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Make the service's container run as planned.

        Same spec hash and running: nothing to do. Stopped: started again.
        Changed spec (or rendered env/command): that container alone is
        recreated; its named volumes are kept. A data volume seeded by a run
        that was killed before it set the credentials gets them now.
        """
        state = await self._ensure(spec)
        await self._finish_adoption(spec, state)
        return state

    async def _ensure(self, spec: RuntimeSpec) -> ContainerState:
        svc = spec.service
        check_spec(spec)
        wanted_runtime = runtime_hash(spec)
        found = await self._service_containers(svc.name)
        found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)), reverse=True)
        current = found[0] if found else None
        for extra in found[1:]:
            await self._remove_container(extra["Id"], what=f"service {svc.name}: removing a duplicate container")
        if current is not None:
            labels = current.get("Labels") or {}
            same = labels.get(LABEL_SPEC_HASH) == svc.spec_hash and labels.get(LABEL_RUNTIME_HASH) == wanted_runtime
            state = current.get("State")
            if same and state in ("running", "restarting"):
                if spec.stdin is not None and (why := await self._unfed(svc.name, current["Id"])):
                    # its config on stdin may be missing: the server waits for it and never serves
                    self.ctx.progress(svc.name, "starting", f"{why} (its config on stdin missing): restarting it, volumes kept")
                    await self._stop_container(current["Id"], svc.name, grace=UNFED_STOP_TIMEOUT_S)
                    await self._start(current["Id"], svc.name, spec.stdin)
                return await self._state(current["Id"], svc.name)
            if same and state == "paused":
                with client.docker_errors(f"service {svc.name}: unpausing"):
                    await self._call("POST", f"/containers/{current['Id']}/unpause")
                return await self._state(current["Id"], svc.name)
            if state == "created" and (volume := self._copy_cut_short(svc.name)) is not None:
                self.ctx.progress(svc.name, "creating", f"an earlier run stopped while it filled data volume {volume} from the template: making it again")
                await self._remove_container(current["Id"], what=f"service {svc.name}: removing the container of the unfinished copy")
                await self._remove_seeded_volume(svc.name, volume)
                return await self._create(spec)
            if same and state in ("created", "exited"):
                self.ctx.progress(svc.name, "starting", "starting the stopped container")
                await self._start(current["Id"], svc.name, spec.stdin)
                return await self._state(current["Id"], svc.name)
            reason = "spec changed" if not same else f"container is {state}"
            self.ctx.progress(svc.name, "creating", f"recreating the container ({reason}); volumes are kept")
            await self._remove_container(current["Id"], what=f"service {svc.name}: removing the old container")
        return await self._create(spec)

    async def _unfed(self, service: str, container_id: str) -> str | None:
        """Why the running ``container_id`` may lack its config on stdin, or ``None`` when this provider's start fed it.

        Either an earlier command was killed between starting the container
        and closing its stdin, or the container was started by something else
        (``docker start``, ``docker restart``): that start gave it no stdin.
        """
        if self.ctx.state is None:
            return None
        rec = self.ctx.state.get_record(self.ctx.stack, self.name, service)
        if rec is None:
            return "no start of it is recorded"  # the state store was lost: it cannot be known
        if rec.get("container") != container_id or not rec.get("prepared"):
            return "its start did not complete"
        data = await self._inspect(container_id)
        started = ((data or {}).get("State") or {}).get("StartedAt")
        if rec.get("startedAt") != started:
            return "it was started outside omnitron"
        return None

    async def _stop_container(self, container_id: str, service: str, *, grace: int = STOP_TIMEOUT_S) -> None:
        with client.docker_errors(f"service {service}: stopping its container"):
            try:
                await self._call("POST", f"/containers/{container_id}/stop", params={"t": grace}, timeout=grace + 60)
            except client.ApiError as exc:
                if exc.status not in (304, 404):
                    raise

    async def list_managed(self) -> dict[str, ContainerState]:
        """Every container of this project and stack, by service (found by labels only)."""
        found = await self._list_containers(stack_labels(self.ctx.project, self.ctx.stack))
        found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)))
        chosen: dict[str, str] = {}
        for data in found:  # the running / newest one wins when a service has several
            service = (data.get("Labels") or {}).get(LABEL_SERVICE)
            if service:
                chosen[service] = data["Id"]
        states: dict[str, ContainerState] = {}
        limit = anyio.CapacityLimiter(INSPECT_CONCURRENCY)

        async def inspect(service: str, container_id: str) -> None:
            async with limit:
                states[service] = await self._state(container_id, service)

        async with task_group() as tg:  # one inspect per container, several at once
            for service, container_id in chosen.items():
                tg.start_soon(inspect, service, container_id)
        return {service: states[service] for service in sorted(states) if states[service].status != "not_found"}

    async def status(self, name: str) -> ContainerState:
        """The state of one service (``not_found`` when it has no container)."""
        data = await self._one(name)
        if data is None:
            return ContainerState(name=name, status="not_found", provider=self.name)
        return await self._state(data["Id"], name)

    async def stop(self, name: str) -> None:
        """Stop the service's container (no-op when it has none or it is not running)."""
        for data in await self._service_containers(name):
            if data.get("State") in ("running", "restarting", "paused"):
                await self._stop_container(data["Id"], name)

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        """Remove the service's container; with ``volumes``, its named volumes too.

        The stack's network goes when no container of the stack is left.
        """
        for data in await self._service_containers(name):
            await self._remove_container(data["Id"], what=f"service {name}: removing its container")
        if self.ctx.state is not None:
            self.ctx.state.delete_record(self.ctx.stack, self.name, name)
        if volumes:
            await self._remove_volumes(service_labels(self.ctx.project, self.ctx.stack, name))
        await self._remove_network_if_unused()

    async def remove_all_data(self) -> None:
        """``down --volumes``: every container, named volume and the network of this project and stack."""
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        for data in await self._list_containers(labels):
            service = (data.get("Labels") or {}).get(LABEL_SERVICE, "?")
            await self._remove_container(data["Id"], what=f"service {service}: removing its container")
            if self.ctx.state is not None:
                self.ctx.state.delete_record(self.ctx.stack, self.name, service)
        await self._remove_volumes(labels)
        await self._remove_network_if_unused()

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        """The container's output (stdout and stderr), line by line, without line ends.

        With ``follow`` it keeps yielding until the container stops or the
        caller stops iterating (the connection is released either way).
        """
        _, data = await self._require(name)
        params = {"stdout": True, "stderr": True, "follow": follow, "tail": str(tail) if tail is not None else "all"}
        with client.docker_errors(f"service {name}: reading logs"):
            # aiodocker's own log stream does not release its connection when the
            # reader stops early; this one closes the response however it ends
            async with self._client()._query(f"containers/{data['Id']}/logs", params=params, timeout=None) as response:
                try:
                    async for line in text_lines(client.multiplexed_result_stream(response, is_tty=False)):
                        yield line
                finally:
                    response.close()

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None, input: bytes | None = None) -> ExecResult:
        """Run ``command`` in the service's running container; stdout and stderr are merged; ``input`` goes to its stdin.

        :raises TimeoutError: when ``timeout`` seconds pass first.
        """
        container, data = await self._require(name)
        if data.get("State") != "running":
            raise ProvisionError(f"service {name}: cannot run {command[0]!r}: its container is {data.get('State')}")
        chunks: list[bytes] = []
        with client.docker_errors(f"service {name}: running {command[0]!r} in its container"):
            execution = await container.exec(list(command), stdout=True, stderr=True, stdin=input is not None, tty=False)
            with anyio.fail_after(timeout):
                async with execution.start(detach=False) as stream:
                    if input is not None:
                        await client.write_stdin(stream, input)
                    while (message := await stream.read_out()) is not None:
                        chunks.append(message.data)
            info = await execution.inspect()
        exit_code = info.get("ExitCode")
        return ExecResult(exit_code=exit_code if exit_code is not None else -1, output=b"".join(chunks).decode("utf-8", "replace"))

    async def interactive_argv(self, name: str, command: list[str], *, env_names: tuple[str, ...] = ()) -> list[str] | None:
        """``docker exec -it CONTAINER COMMAND`` on the service's running container (found by its labels); ``None`` without the docker CLI."""
        if shutil.which("docker") is None:
            return None
        data = await self._one(name)
        if data is None or data.get("State") != "running":
            raise ProvisionError(f"service {name} is not running: `omnitron infra up` first")
        argv = ["docker", "exec", "-it"]
        for env_name in env_names:
            argv += ["-e", env_name]
        return [*argv, data["Id"], *command]

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """Host ports of our services held by something else, one line each (before anything starts).

        A port held by this same service's container is fine (it is ours to
        recreate); anything else holding it is reported by name when known.
        """
        ours = [s for s in services if s.provider == self.name and s.ports]
        if not ours:
            return []
        with client.docker_errors("listing running containers"):
            running = await self._list_containers(None, all=False)
        published: list[tuple[str, int, dict[str, Any]]] = []
        for data in running:
            for port in data.get("Ports") or []:
                if port.get("PublicPort") and port.get("Type", "tcp") == "tcp":
                    published.append((port.get("IP", ""), int(port["PublicPort"]), data))
        local = self._engine_is_local()
        problems: list[str] = []
        # a container of ours on the host network listens on its ports itself: they are its own
        on_host = [d for d in running if (d.get("HostConfig") or {}).get("NetworkMode") == "host"]
        host_network = {svc.name for svc in ours if any(self._is_same_service(d, svc.name) for d in on_host)}
        for svc in ours:
            if svc.name in host_network:
                continue
            for port in sorted(svc.ports.values()):
                holders = [d for ip, p, d in published if p == port and addresses_overlap(ip, svc.bind_address)]
                if holders:
                    if all(self._is_same_service(d, svc.name) for d in holders):
                        continue
                    who = ", ".join(self._describe_container(d) for d in holders if not self._is_same_service(d, svc.name))
                elif local and await anyio.to_thread.run_sync(is_listening, port, svc.bind_address):
                    who = await anyio.to_thread.run_sync(describe_listeners, port, svc.bind_address)
                else:
                    continue
                problems.append(f"port {port} (service {svc.name}) is already in use by {who}: set portOffsets in the stack or free the port")
        return problems

    async def begin_up(self, services: list[PlannedService]) -> None:
        """Look up (create when missing) the networks the ``services`` join, while the engine checks ports.

        A new container cannot be created before its network exists, and
        creating one is the slowest step in front of it: done here it is ready
        by the time the first ``create`` needs it. Errors are left to that ``create``.
        """
        wanted = {requested_network(svc.docker) for svc in services if svc.provider == self.name and svc.docker is not None}
        await gather(*(self._ensure_network(name) for name in sorted(wanted, key=str)))

    def _is_same_service(self, data: dict[str, Any], service: str) -> bool:
        labels = data.get("Labels") or {}
        return is_managed(labels) and labels.get(LABEL_PROJECT) == self.ctx.project and labels.get(LABEL_STACK) == self.ctx.stack and labels.get(LABEL_SERVICE) == service

    @staticmethod
    def _describe_container(data: dict[str, Any]) -> str:
        names = [n.lstrip("/") for n in data.get("Names") or []]
        name = names[0] if names else data.get("Id", "?")[:12]
        labels = data.get("Labels") or {}
        owner = f" ({owner_of(labels)})" if is_managed(labels) else ""
        return f"container {name}{owner}"

