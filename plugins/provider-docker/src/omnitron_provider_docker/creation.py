"""Creating a service's container: image, network, volumes and name looked up (and made) at once, then create and start.

Nothing stands before the first ``create`` that it does not need: the image
check, the network, the volumes and the free name are independent and run
concurrently; a data volume created now may be seeded from a template
(:mod:`.seeding`) once the container is created, before it starts.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio

from omnitron.api import ContainerState, HeadStart, RuntimeSpec, task_group

from . import client, engine_reads
from .container_config import Placement, create_body, docker_options, requested_network, runtime_hash
from .naming import LABEL_RUNTIME_HASH, LABEL_VOLUME, service_labels, stack_labels

HEAD_START_ENV = ("DOCKER_HOST", "OMNITRON_DOCKER_TEMPLATE")
"""What the recipe depends on beyond the plan: the engine, and whether a data template would seed the volume instead."""


class CreationMixin:
    """Part of :class:`~.engine.DockerEngineProvider`: a service's new container."""

    ctx: Any
    name: str
    _new_volumes: set[str]
    _created: dict[str, tuple[str, Placement, str | None]]
    """Service -> container name, placement and image ID of each container this instance created and started plainly."""
    # from the other parts: _call(), _client(), _inspect(), _state(), _free_container_name(), _ensure_network(), _ensure_volumes(),
    # _remove_container(), _remove_new_volume(), _data_template(), _image_and_template(), _seed_volume(), _adopt(), _pending()

    async def _create(self, spec: RuntimeSpec) -> ContainerState:
        """Create and start the service's container; what it needs around it is looked up and made at once."""
        svc = spec.service
        opts = docker_options(spec)
        template = self._data_template(spec)
        name, (image, seeding, template_id), network, volumes = await gather(
            self._free_container_name(svc.name),
            self._image_and_template(spec, template),
            self._ensure_network(requested_network(opts)),
            self._ensure_volumes(svc),
        )
        body = create_body(spec, Placement(project=self.ctx.project, stack=self.ctx.stack, network=network, volumes=volumes))
        if any(v in self._new_volumes for v in volumes.values()):
            self._pending(svc.name, None)  # a new volume: nothing of an earlier seeding is in it
        volume = volumes.get(template.volume) if template is not None else None
        if seeding is None or volume is None or volume not in self._new_volumes:
            state = await self._state(await self._create_started(svc.name, name, body, spec.stdin), svc.name)
            self._created[svc.name] = (name, Placement(project=self.ctx.project, stack=self.ctx.stack, network=network, volumes=volumes), image.get("Id"))
            return state
        assert template is not None
        # the volume is filled in the created container (which must not copy the image's empty directory in)
        for mount in body["HostConfig"]["Mounts"]:
            if mount.get("Source") == volume:
                mount["VolumeOptions"] = {"NoCopy": True}
        if template_id is not None:
            self._pending(svc.name, volume)  # until its credentials are set: a run killed in between is finished by the next
        container_id = await self._create_container(svc.name, name, body)
        seeded, problem = False, None
        try:
            seeded = await self._seed_volume(svc.name, seeding, template_id, volume, container_id)
        except engine_reads.EngineReadError as exc:  # the volume may hold part of the template
            problem = f"copying the template in failed: {exc}"
        if problem is None:
            self.ctx.progress(svc.name, "starting", f"container {name}")
            await self._start(container_id, svc.name, spec.stdin)
            problem = await self._adopt(spec, template, container_id) if seeded else None
        self._pending(svc.name, None)  # set, or given up (the volume is made again below)
        if problem is not None:  # the new volume holds nothing but the template: start over without it
            self.ctx.progress(svc.name, "creating", f"the seeded data could not be taken over ({problem}): initialising as usual")
            await self._remove_container(container_id, what=f"service {svc.name}: removing the seeded container")
            await self._remove_new_volume(volume)
            volumes = await self._ensure_volumes(svc)
            body = create_body(spec, Placement(project=self.ctx.project, stack=self.ctx.stack, network=network, volumes=volumes))
            container_id = await self._create_started(svc.name, name, body, spec.stdin)
        return await self._state(container_id, svc.name)

    def head_start(self, spec: RuntimeSpec, marked: RuntimeSpec) -> HeadStart | None:
        """The recipe of :mod:`.head_start` for a container this instance just created and started plainly (no data
        seeded into it, nothing bind-mounted, on the stack's own network, a local engine); ``None`` otherwise."""
        svc = spec.service
        done = self._created.get(svc.name)
        sock = engine_reads.local_socket()
        if done is None or sock is None:
            return None
        name, placement, image_id = done
        opts = docker_options(spec)
        if requested_network(opts) is not None or any(v.type != "volume" for v in opts.volumes) or self._data_template(spec) is not None:
            return None
        body = create_body(marked, placement)
        body["Labels"][LABEL_RUNTIME_HASH] = runtime_hash(spec)  # of the real values: the runner checks it against them
        labels = service_labels(placement.project, placement.stack, svc.name)
        by_volume = {v: source for source, v in placement.volumes.items()}
        recipe = {
            "socket": str(sock),
            "name": name,
            "image": {"name": opts.image, "id": image_id},
            "network": {"Name": placement.network, "CheckDuplicate": True, "Labels": stack_labels(placement.project, placement.stack)},
            "volumes": [{"Name": v, "Labels": {**labels, LABEL_VOLUME: source}} for v, source in sorted(by_volume.items())],
            "body": body,
            "stdin": marked.stdin.decode() if marked.stdin is not None else None,
        }
        ports = tuple((b.get("HostIp") or "0.0.0.0", int(b["HostPort"])) for bs in body["HostConfig"]["PortBindings"].values() for b in bs)
        return HeadStart(runner="omnitron_provider_docker.head_start:run", recipe=recipe, env=HEAD_START_ENV, ports=ports)

    async def _create_container(self, service: str, name: str, body: dict[str, Any]) -> str:
        self.ctx.progress(service, "creating", f"container {name} from {body['Image']}")
        self._record(service, None, prepared=False)
        with client.docker_errors(f"service {service}: creating container {name}"):
            created = await self._call("POST", "/containers/create", params={"name": name}, body=body)
        return str(created["Id"])

    async def _create_started(self, service: str, name: str, body: dict[str, Any], stdin: bytes | None) -> str:
        container_id = await self._create_container(service, name, body)
        self.ctx.progress(service, "starting", f"container {name}")
        await self._start(container_id, service, stdin)
        return container_id

    async def _start(self, container_id: str, service: str, stdin: bytes | None = None) -> None:
        """Start the container; with ``stdin``, attach to its stdin first, write it once started, and close it.

        Configuration holding a secret goes this way (``redis-server -``): it is
        in no ``Cmd``, no env, and no file the engine keeps.
        """
        self._record(service, container_id, prepared=False)
        local = engine_reads.local_socket()
        if stdin is None:
            with client.docker_errors(f"service {service}: starting its container"):
                await self._call("POST", f"/containers/{container_id}/start")
        elif local is not None:
            with client.docker_errors(f"service {service}: starting its container with its config on stdin"):
                attached = await anyio.to_thread.run_sync(engine_reads.attach_stdin, local, container_id)
                try:
                    await self._call("POST", f"/containers/{container_id}/start")
                except BaseException:
                    attached.close()
                    raise
                await anyio.to_thread.run_sync(engine_reads.feed, attached, stdin)
        else:
            container = self._client().containers.container(container_id)
            with client.docker_errors(f"service {service}: starting its container with its config on stdin"):
                async with container.attach(stdin=True, stdout=False, stderr=False) as stream:
                    await container.start()
                    await stream.write_in(stdin)
        data = await self._inspect(container_id) if stdin is not None else None
        self._record(service, container_id, prepared=True, started_at=((data or {}).get("State") or {}).get("StartedAt"))

    def _record(self, service: str, container_id: str | None, *, prepared: bool, started_at: str | None = None) -> None:
        """Remember which container runs ``service`` and whether its start completed (``prepared``: started, and
        its stdin written and closed); written ``False`` before each create and start, ``True`` after, with the
        start's ``State.StartedAt`` (a start by anyone else changes it)."""
        if self.ctx.state is not None:
            rec = {"container": container_id, "prepared": prepared, "startedAt": started_at}
            self.ctx.state.put_record(self.ctx.stack, self.name, service, rec)


async def gather(*steps: Awaitable[Any]) -> list[Any]:
    """Await ``steps`` concurrently; their results in order (the first error cancels the rest, and a
    :class:`~omnitron.api.ProvisionError` stays one: :func:`~omnitron.api.task_group`)."""
    results: list[Any] = [None] * len(steps)

    async def one(index: int, step: Awaitable[Any]) -> None:
        results[index] = await step

    async with task_group() as tg:
        for index, step in enumerate(steps):
            tg.start_soon(one, index, step)
    return results
