"""The ``docker`` provider: services as containers, found again by their labels."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import anyio
from omnitron import hostports
from omnitron.errors import ProvisionError
from omnitron.providers import ContainerState, ExecResult, Provider, ProviderContext, RuntimeSpec

from . import engine_reads
from .container_config import Placement, check_spec, create_body, docker_options, runtime_hash
from .container_state import from_inspect
from .naming import (
    LABEL_PROJECT,
    LABEL_RUNTIME_HASH,
    LABEL_SERVICE,
    LABEL_SPEC_HASH,
    LABEL_STACK,
    LABEL_VOLUME,
    container_name,
    disambiguated,
    is_managed,
    label_filter,
    network_name,
    owner_of,
    service_labels,
    stack_labels,
    volume_name,
)

if TYPE_CHECKING:
    from omnitron.plan import PlannedService

SOCKET_PATHS = engine_reads.SOCKET_PATHS
AVAILABLE_TIMEOUT = 0.5
STOP_TIMEOUT_S = 10


class _NotLoaded(Exception):
    """Stands for aiodocker's and aiohttp's errors until they are imported (nothing can raise them before)."""


# aiodocker and aiohttp are imported by _load_client() on the first call that needs
# them (anything that changes the engine's state, streams, or a remote engine):
# reads of a local engine go through engine_reads, so a no-op `infra up` skips them.
aiodocker: Any = None
aiohttp: Any = None
DockerError: Any = _NotLoaded
ClientError: Any = _NotLoaded
DockerNetwork: Any = None
DockerVolume: Any = None
multiplexed_result_stream: Any = None
ENGINE_TIMEOUT: Any = None
"""Engine calls; streams (logs, pulls, exec output, stop) have no total timeout."""


def _load_client() -> None:
    global aiodocker, aiohttp, DockerError, ClientError, DockerNetwork, DockerVolume, multiplexed_result_stream, ENGINE_TIMEOUT
    if aiodocker is not None:
        return
    import aiodocker as _aiodocker
    import aiohttp as _aiohttp
    from aiodocker.exceptions import DockerError as _DockerError
    from aiodocker.multiplexed import multiplexed_result_stream as _stream
    from aiodocker.networks import DockerNetwork as _DockerNetwork
    from aiodocker.volumes import DockerVolume as _DockerVolume

    aiohttp, DockerError, ClientError = _aiohttp, _DockerError, _aiohttp.ClientError
    DockerNetwork, DockerVolume, multiplexed_result_stream = _DockerNetwork, _DockerVolume, _stream
    ENGINE_TIMEOUT = _aiohttp.ClientTimeout(total=120, sock_connect=10)
    aiodocker = _aiodocker
PULL_PROGRESS_INTERVAL = 0.5
NO_ENGINE_HINT = "start Docker (or set DOCKER_HOST), or use the process provider (--provider process)"


def _engine_error(what: str, exc: Any) -> ProvisionError:
    if exc.status == 900:
        return ProvisionError(f"{what}: no Docker engine answers ({exc.message}): {NO_ENGINE_HINT}")
    return ProvisionError(f"{what}: {exc.message}")


@contextlib.contextmanager
def _docker_errors(what: str) -> Iterator[None]:
    """Turn the engine's errors into one-line :class:`ProvisionError` s saying what was being done."""
    try:
        yield
    except (DockerError, engine_reads.EngineReadError) as exc:
        raise _engine_error(what, exc) from None
    except ClientError as exc:
        raise ProvisionError(f"{what}: the Docker engine connection failed ({type(exc).__name__}: {exc})") from None


class DockerProvider(Provider):
    """Runs each service as a container of the stack's network, on 127.0.0.1 ports.

    Every container, volume and network it creates carries ``omnitron.*``
    labels (project, stack, service, spec hash) and is only ever found again by
    them; objects without our labels are never modified or removed.
    """

    name = "docker"
    install_hint = "install and start Docker (https://docs.docker.com/engine/install/), or use the process provider"

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self._docker: Any = None
        self._closed = False
        self._network_lock = anyio.Lock()
        self._networks: set[str] = set()

    # -- engine ------------------------------------------------------------

    @classmethod
    async def available(cls) -> bool:
        """Whether an engine answers (``DOCKER_HOST`` or the local socket) within half a second."""
        if not os.environ.get("DOCKER_HOST") and not any(p.is_socket() for p in SOCKET_PATHS):
            return False
        local = engine_reads.local_socket()
        if local is not None:
            return await anyio.to_thread.run_sync(lambda: engine_reads.ping(local, timeout=AVAILABLE_TIMEOUT))
        _load_client()
        try:
            with anyio.fail_after(AVAILABLE_TIMEOUT):
                async with aiodocker.Docker() as docker:
                    await docker.version()
        except Exception:
            return False
        return True

    def _client(self) -> Any:
        if self._closed:
            raise RuntimeError("this DockerProvider is closed")
        _load_client()
        if self._docker is None:
            try:
                self._docker = aiodocker.Docker(timeout=ENGINE_TIMEOUT)
            except (ValueError, AssertionError) as exc:
                raise ProvisionError(f"no Docker engine configured ({exc}): {NO_ENGINE_HINT}") from None
        return self._docker

    async def aclose(self) -> None:
        """Close the engine connection; the provider cannot be used afterwards."""
        self._closed = True
        if self._docker is not None:
            docker, self._docker = self._docker, None
            await docker.close()

    def _engine_is_local(self) -> bool:
        host = os.environ.get("DOCKER_HOST", "")
        return not host or host.startswith("unix://")

    # -- lookups by label ----------------------------------------------------

    async def _list_containers(self, labels: dict[str, str] | None, *, all: bool = True) -> list[dict[str, Any]]:
        """Containers carrying every one of ``labels`` (all containers when ``None``)."""
        if self._closed:
            raise RuntimeError("this DockerProvider is closed")
        filters = label_filter(labels) if labels else {}
        local = engine_reads.local_socket()
        with _docker_errors("listing containers"):
            if local is not None:
                return await anyio.to_thread.run_sync(lambda: engine_reads.list_containers(local, filters, all=all))
            found = await self._client().containers.list(all=all, filters=filters)
        return [c._container for c in found]

    async def _service_containers(self, service: str) -> list[dict[str, Any]]:
        return await self._list_containers(service_labels(self.ctx.project, self.ctx.stack, service))

    async def _inspect(self, container_id: str) -> dict[str, Any] | None:
        local = engine_reads.local_socket()
        if local is not None:
            with _docker_errors(f"inspecting container {container_id[:12]}"):
                return await anyio.to_thread.run_sync(engine_reads.inspect_container, local, container_id)
        docker = self._client()
        try:
            container = await docker.containers.get(container_id)
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise _engine_error(f"inspecting container {container_id[:12]}", exc) from None
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

    # -- ensure ----------------------------------------------------------------

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Make the service's container run as planned.

        Same spec hash and running: nothing to do. Stopped: started again.
        Changed spec (or rendered env/command): that container alone is
        recreated; its named volumes are kept.
        """
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
                return await self._state(current["Id"], svc.name)
            if same and state == "paused":
                with _docker_errors(f"service {svc.name}: unpausing"):
                    await self._client().containers.container(current["Id"]).unpause()
                return await self._state(current["Id"], svc.name)
            if same and state in ("created", "exited"):
                self.ctx.progress(svc.name, "starting", "starting the stopped container")
                await self._start(current["Id"], svc.name)
                return await self._state(current["Id"], svc.name)
            reason = "spec changed" if not same else f"container is {state}"
            self.ctx.progress(svc.name, "creating", f"recreating the container ({reason}); volumes are kept")
            await self._remove_container(current["Id"], what=f"service {svc.name}: removing the old container")
        return await self._create(spec)

    async def _create(self, spec: RuntimeSpec) -> ContainerState:
        svc = spec.service
        opts = docker_options(spec)
        assert opts.image is not None
        name = await self._free_container_name(svc.name)
        await self._ensure_image(svc.name, opts.image)
        network = await self._ensure_network(opts.network.name if opts.network and opts.network.name else None)
        volumes = await self._ensure_volumes(svc)
        placement = Placement(project=self.ctx.project, stack=self.ctx.stack, network=network, volumes=volumes)
        body = create_body(spec, placement)
        self.ctx.progress(svc.name, "creating", f"container {name} from {opts.image}")
        with _docker_errors(f"service {svc.name}: creating container {name}"):
            container = await self._client().containers.create(body, name=name)
        self.ctx.progress(svc.name, "starting", f"container {name}")
        await self._start(container.id, svc.name)
        return await self._state(container.id, svc.name)

    async def _start(self, container_id: str, service: str) -> None:
        with _docker_errors(f"service {service}: starting its container"):
            await self._client().containers.container(container_id).start()

    async def _ensure_image(self, service: str, image: str) -> None:
        docker = self._client()
        try:
            await docker.images.inspect(image)
            return
        except DockerError as exc:
            if exc.status != 404:
                raise _engine_error(f"service {service}: looking up image {image}", exc) from None
        self.ctx.progress(service, "pulling", f"{image}: not present locally, pulling")
        last = 0.0
        try:
            async for event in docker.images.pull(image, stream=True):
                detail = " ".join(str(event[k]) for k in ("id", "status", "progress") if event.get(k))
                now = time.monotonic()
                # byte counters arrive many times a second: pass them on at a readable pace
                if detail and (not event.get("progress") or now - last >= PULL_PROGRESS_INTERVAL):
                    last = now
                    self.ctx.progress(service, "pulling", f"{image}: {detail}")
        except DockerError as exc:
            raise ProvisionError(
                f"service {service}: image {image} is not present locally and pulling it failed ({exc.message}); "
                "if no registry is reachable, build or load the image first (docker build / docker load) "
                "or point docker.image (or the preset's config.image) at a local image"
            ) from None

    async def _ensure_network(self, wanted: str | None) -> str:
        """The stack's network (``omnitron-<project>-<stack>``, ours by label), or a named one; created when missing."""
        name = wanted or network_name(self.ctx.project, self.ctx.stack)
        if name in self._networks:
            return name
        docker = self._client()
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        async with self._network_lock:
            if name in self._networks:
                return name
            with _docker_errors(f"looking up network {name}"):
                found = [n for n in await docker.networks.list(filters={"name": name}) if n.get("Name") == name]
            if found:
                owner = found[0].get("Labels") or {}
                if wanted is None and any(owner.get(key) != value for key, value in labels.items()):
                    raise ProvisionError(
                        f"a network named {name} exists and is {owner_of(found[0].get('Labels'))}, not this project's and stack's; "
                        f"omnitron will not use it: remove or rename it (docker network rm {name})"
                    )
            else:
                with _docker_errors(f"creating network {name}"):
                    try:
                        await docker.networks.create({"Name": name, "CheckDuplicate": True, "Labels": labels})
                    except DockerError as exc:
                        if exc.status != 409:  # created meanwhile by someone else: fine
                            raise
            self._networks.add(name)
        return name

    async def _ensure_volumes(self, svc: PlannedService) -> dict[str, str]:
        """Named volume ``source`` -> Docker volume, found by labels or created (labelled) on demand."""
        assert svc.docker is not None
        sources = [v.source for v in svc.docker.volumes if v.type == "volume"]
        if not sources:
            return {}
        docker = self._client()
        labels = service_labels(self.ctx.project, self.ctx.stack, svc.name)
        with _docker_errors(f"service {svc.name}: listing volumes"):
            listed = (await docker.volumes.list(filters=label_filter(labels))).get("Volumes") or []
        existing = {(v.get("Labels") or {}).get(LABEL_VOLUME): v["Name"] for v in listed}
        out: dict[str, str] = {}
        for source in sources:
            if source in existing:
                out[source] = existing[source]
                continue
            name = await self._free_volume_name(svc.name, source)
            with _docker_errors(f"service {svc.name}: creating volume {name}"):
                await docker.volumes.create({"Name": name, "Labels": {**labels, LABEL_VOLUME: source}})
            out[source] = name
        return out

    async def _free_volume_name(self, service: str, source: str) -> str:
        base = volume_name(self.ctx.project, self.ctx.stack, service, source)
        docker = self._client()
        for candidate in (base, disambiguated(base, self.ctx.project, self.ctx.stack, service, source)):
            try:
                data = await docker.volumes.get(candidate)
                info = await data.show()
            except DockerError as exc:
                if exc.status == 404:
                    return candidate
                raise ProvisionError(f"service {service}: looking up volume {candidate}: {exc.message}") from None
            if not is_managed(info.get("Labels")):
                raise ProvisionError(
                    f"service {service}: a volume named {candidate} exists and is not managed by omnitron; "
                    f"omnitron will not use or touch it: remove or rename it, or rename the volume source {source!r}"
                )
        raise ProvisionError(f"service {service}: volume names {base} and its variant are taken by other omnitron services")

    async def _free_container_name(self, service: str) -> str:
        """Our container name, unless another owner holds it; a container not ours is never touched."""
        base = container_name(self.ctx.project, self.ctx.stack, service)
        for candidate in (base, disambiguated(base, self.ctx.project, self.ctx.stack, service)):
            data = await self._inspect(candidate)
            if data is None:
                return candidate
            labels = (data.get("Config") or {}).get("Labels") or {}
            if not is_managed(labels):
                raise ProvisionError(
                    f"service {service}: a container named {candidate} exists and is not managed by omnitron (no omnitron labels); "
                    f"omnitron will not touch it: remove or rename it (docker rm -f {candidate}) or rename the project or stack"
                )
        raise ProvisionError(f"service {service}: container names {base} and its variant are taken by other omnitron services")

    async def _remove_container(self, container_id: str, *, what: str) -> None:
        """Stop gracefully, then remove with its anonymous volumes (named volumes stay)."""
        container = self._client().containers.container(container_id)
        with _docker_errors(what):
            try:
                await container.stop(t=STOP_TIMEOUT_S)
            except DockerError as exc:
                if exc.status not in (304, 404):
                    raise
            try:
                await container.delete(force=True, v=True)
            except DockerError as exc:
                if exc.status != 404:
                    raise

    # -- inventory -----------------------------------------------------------

    async def list_managed(self) -> dict[str, ContainerState]:
        """Every container of this project and stack, by service (found by labels only)."""
        found = await self._list_containers(stack_labels(self.ctx.project, self.ctx.stack))
        found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)))
        chosen: dict[str, str] = {}
        for data in found:  # the running / newest one wins when a service has several
            service = (data.get("Labels") or {}).get(LABEL_SERVICE)
            if service:
                chosen[service] = data["Id"]
        out: dict[str, ContainerState] = {}
        for service, container_id in sorted(chosen.items()):
            state = await self._state(container_id, service)
            if state.status != "not_found":
                out[service] = state
        return out

    async def status(self, name: str) -> ContainerState:
        """The state of one service (``not_found`` when it has no container)."""
        data = await self._one(name)
        if data is None:
            return ContainerState(name=name, status="not_found", provider=self.name)
        return await self._state(data["Id"], name)

    # -- lifecycle -------------------------------------------------------------

    async def stop(self, name: str) -> None:
        """Stop the service's container (no-op when it has none or it is not running)."""
        for data in await self._service_containers(name):
            if data.get("State") not in ("running", "restarting", "paused"):
                continue
            with _docker_errors(f"service {name}: stopping its container"):
                try:
                    await self._client().containers.container(data["Id"]).stop(t=STOP_TIMEOUT_S)
                except DockerError as exc:
                    if exc.status not in (304, 404):
                        raise

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        """Remove the service's container; with ``volumes``, its named volumes too.

        The stack's network goes when no container of the stack is left.
        """
        for data in await self._service_containers(name):
            await self._remove_container(data["Id"], what=f"service {name}: removing its container")
        if volumes:
            await self._remove_volumes(service_labels(self.ctx.project, self.ctx.stack, name))
        await self._remove_network_if_unused()

    async def remove_all_data(self) -> None:
        """``down --volumes``: every container, named volume and the network of this project and stack."""
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        for data in await self._list_containers(labels):
            service = (data.get("Labels") or {}).get(LABEL_SERVICE, "?")
            await self._remove_container(data["Id"], what=f"service {service}: removing its container")
        await self._remove_volumes(labels)
        await self._remove_network_if_unused()

    async def _remove_volumes(self, labels: dict[str, str]) -> None:
        docker = self._client()
        with _docker_errors("listing volumes"):
            listed = (await docker.volumes.list(filters=label_filter(labels))).get("Volumes") or []
        for vol in listed:
            owner = vol.get("Labels") or {}
            if owner.get(LABEL_PROJECT) != self.ctx.project or owner.get(LABEL_STACK) != self.ctx.stack:
                continue
            with _docker_errors(f"removing volume {vol['Name']}"):
                try:
                    await DockerVolume(docker, vol["Name"]).delete()
                except DockerError as exc:
                    if exc.status != 404:
                        raise

    async def _remove_network_if_unused(self) -> None:
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        if await self._list_containers(labels):
            return
        docker = self._client()
        with _docker_errors("listing networks"):
            found = await docker.networks.list(filters=label_filter(labels))
        for net in found:
            try:
                await DockerNetwork(docker, net["Id"]).delete()
            except DockerError as exc:
                if exc.status not in (403, 404, 409):  # still used by someone else's container: leave it
                    raise ProvisionError(f"removing network {net.get('Name')}: {exc.message}") from None
            self._networks.discard(net.get("Name", ""))

    # -- logs and exec ---------------------------------------------------------

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        """The container's output (stdout and stderr), line by line, without line ends.

        With ``follow`` it keeps yielding until the container stops or the
        caller stops iterating (the connection is released either way).
        """
        _, data = await self._require(name)
        params = {"stdout": True, "stderr": True, "follow": follow, "tail": str(tail) if tail is not None else "all"}
        pending = ""
        with _docker_errors(f"service {name}: reading logs"):
            # aiodocker's own log stream does not release its connection when the
            # reader stops early; this one closes the response however it ends
            async with self._client()._query(f"containers/{data['Id']}/logs", params=params, timeout=None) as response:
                try:
                    async for chunk in multiplexed_result_stream(response, is_tty=False):
                        pending += chunk
                        *lines, pending = pending.split("\n")
                        for line in lines:
                            yield line.rstrip("\r")
                finally:
                    response.close()
        if pending:
            yield pending.rstrip("\r")

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        """Run ``command`` in the service's running container; stdout and stderr are merged.

        :raises TimeoutError: when ``timeout`` seconds pass first.
        """
        container, data = await self._require(name)
        if data.get("State") != "running":
            raise ProvisionError(f"service {name}: cannot run {command[0]!r}: its container is {data.get('State')}")
        chunks: list[bytes] = []
        with _docker_errors(f"service {name}: running {command[0]!r} in its container"):
            execution = await container.exec(list(command), stdout=True, stderr=True, stdin=False, tty=False)
            with anyio.fail_after(timeout):
                async with execution.start(detach=False) as stream:
                    while (message := await stream.read_out()) is not None:
                        chunks.append(message.data)
            info = await execution.inspect()
        exit_code = info.get("ExitCode")
        return ExecResult(exit_code=exit_code if exit_code is not None else -1, output=b"".join(chunks).decode("utf-8", "replace"))

    # -- ports -----------------------------------------------------------------

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """Host ports of our services held by something else, one line each (before anything starts).

        A port held by this same service's container is fine (it is ours to
        recreate); anything else holding it is reported by name when known.
        """
        ours = [s for s in services if s.provider == self.name and s.ports]
        if not ours:
            return []
        with _docker_errors("listing running containers"):
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
                holders = [d for ip, p, d in published if p == port and hostports.addresses_overlap(ip, svc.bind_address)]
                if holders:
                    if all(self._is_same_service(d, svc.name) for d in holders):
                        continue
                    who = ", ".join(self._describe_container(d) for d in holders if not self._is_same_service(d, svc.name))
                elif local and await anyio.to_thread.run_sync(hostports.is_listening, port, svc.bind_address):
                    who = await anyio.to_thread.run_sync(hostports.describe_listeners, port, svc.bind_address)
                else:
                    continue
                problems.append(f"port {port} (service {svc.name}) is already in use by {who}: set portOffsets in the stack or free the port")
        return problems

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
