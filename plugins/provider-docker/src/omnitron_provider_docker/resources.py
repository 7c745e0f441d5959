"""Networks, volumes and container names of a stack: found by label, created labelled, never taken from someone else."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from omnitron.api import PlannedService, ProvisionError

from . import client
from .naming import LABEL_PROJECT, LABEL_STACK, LABEL_VOLUME, container_name, disambiguated, is_managed, label_filter, network_name, owner_of, service_labels, stack_labels, volume_name

PULL_PROGRESS_INTERVAL = 0.5
STOP_TIMEOUT_S = 10


class ResourcesMixin:
    """Part of :class:`~.engine.DockerEngineProvider`: what containers need around them."""

    ctx: Any
    _networks: set[str]
    _network_lock: Any
    _new_volumes: set[str]
    """Docker volumes created by this provider instance (new and empty, so they may be seeded)."""
    # from DockerEngineProvider: _call(), _client(), _inspect(), _list_containers()

    async def _ensure_image(self, service: str, image: str) -> dict[str, Any]:
        """The image's inspect data; pulled first when it is not present locally."""
        try:
            return await self._call("GET", f"/images/{quote(image, safe='')}/json")
        except client.ApiError as exc:
            if exc.status != 404:
                raise client.engine_error(f"service {service}: looking up image {image}", exc) from None
        await self._pull(service, image)
        with client.docker_errors(f"service {service}: looking up image {image}"):
            return await self._call("GET", f"/images/{quote(image, safe='')}/json")

    async def _pull(self, service: str, image: str) -> None:
        docker = self._client()
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
        except client.DockerError as exc:
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
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        async with self._network_lock:
            if name in self._networks:
                return name
            with client.docker_errors(f"looking up network {name}"):
                found = [n for n in await self._call("GET", "/networks", params={"filters": {"name": [name]}}) if n.get("Name") == name]
            if found:
                owner = found[0].get("Labels") or {}
                if wanted is None and any(owner.get(key) != value for key, value in labels.items()):
                    raise ProvisionError(
                        f"a network named {name} exists and is {owner_of(found[0].get('Labels'))}, not this project's and stack's; "
                        f"omnitron will not use it: remove or rename it (docker network rm {name})"
                    )
            else:
                with client.docker_errors(f"creating network {name}"):
                    try:
                        await self._call("POST", "/networks/create", body={"Name": name, "CheckDuplicate": True, "Labels": labels})
                    except client.ApiError as exc:
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
        labels = service_labels(self.ctx.project, self.ctx.stack, svc.name)
        with client.docker_errors(f"service {svc.name}: listing volumes"):
            listed = (await self._call("GET", "/volumes", params={"filters": label_filter(labels)})).get("Volumes") or []
        existing = {(v.get("Labels") or {}).get(LABEL_VOLUME): v["Name"] for v in listed}
        out: dict[str, str] = {}
        for source in sources:
            if source in existing:
                out[source] = existing[source]
                continue
            name = await self._free_volume_name(svc.name, source)
            with client.docker_errors(f"service {svc.name}: creating volume {name}"):
                await self._call("POST", "/volumes/create", body={"Name": name, "Labels": {**labels, LABEL_VOLUME: source}})
            self._new_volumes.add(name)
            out[source] = name
        return out

    async def _free_volume_name(self, service: str, source: str) -> str:
        base = volume_name(self.ctx.project, self.ctx.stack, service, source)
        for candidate in (base, disambiguated(base, self.ctx.project, self.ctx.stack, service, source)):
            try:
                info = await self._call("GET", f"/volumes/{quote(candidate, safe='')}")
            except client.ApiError as exc:
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
        with client.docker_errors(what):
            try:
                await self._call("POST", f"/containers/{container_id}/stop", params={"t": STOP_TIMEOUT_S}, timeout=STOP_TIMEOUT_S + 60)
            except client.ApiError as exc:
                if exc.status not in (304, 404):
                    raise
            try:
                await self._call("DELETE", f"/containers/{container_id}", params={"force": True, "v": True})
            except client.ApiError as exc:
                if exc.status != 404:
                    raise

    async def _remove_new_volume(self, name: str) -> None:
        """Remove a volume this provider created a moment ago (it holds nothing of anyone's yet)."""
        assert name in self._new_volumes, "only a volume created by this provider instance may be removed this way"
        with client.docker_errors(f"removing volume {name}"):
            await self._call("DELETE", f"/volumes/{quote(name, safe='')}")
        self._new_volumes.discard(name)

    async def _remove_volumes(self, labels: dict[str, str]) -> None:
        with client.docker_errors("listing volumes"):
            listed = (await self._call("GET", "/volumes", params={"filters": label_filter(labels)})).get("Volumes") or []
        for vol in listed:
            owner = vol.get("Labels") or {}
            if owner.get(LABEL_PROJECT) != self.ctx.project or owner.get(LABEL_STACK) != self.ctx.stack:
                continue
            await self._remove_seeding_leftovers(vol["Name"])
            await self._remove_volume(vol["Name"], what=f"removing volume {vol['Name']}")

    async def _remove_volume(self, name: str, *, what: str) -> None:
        """Remove the volume ``name`` (already gone: nothing to do)."""
        with client.docker_errors(what):
            try:
                await self._call("DELETE", f"/volumes/{quote(name, safe='')}")
            except client.ApiError as exc:
                if exc.status != 404:
                    raise

    async def _remove_seeding_leftovers(self, volume: str) -> None:
        """Remove the never-started container that seeds ``volume`` from a data template, if an ``up`` killed
        mid-seeding left it behind (it holds the volume). Only containers with the template label are touched."""
        from .templates import LABEL_TEMPLATE_BUILD

        with client.docker_errors(f"listing containers using volume {volume}"):
            found = await self._call("GET", "/containers/json", params={"all": "1", "filters": {"volume": [volume], "label": [LABEL_TEMPLATE_BUILD]}})
        for container in found or []:
            with client.docker_errors(f"removing the seeding container of volume {volume}"):
                try:
                    await self._call("DELETE", f"/containers/{container['Id']}", params={"v": "1", "force": "1"})
                except client.ApiError as exc:
                    if exc.status != 404:
                        raise

    async def _remove_network_if_unused(self) -> None:
        labels = stack_labels(self.ctx.project, self.ctx.stack)
        if await self._list_containers(labels):
            return
        with client.docker_errors("listing networks"):
            found = await self._call("GET", "/networks", params={"filters": label_filter(labels)})
        for net in found:
            try:
                await self._call("DELETE", f"/networks/{net['Id']}")
            except client.ApiError as exc:
                if exc.status not in (403, 404, 409):  # still used by someone else's container: leave it
                    raise ProvisionError(f"removing network {net.get('Name')}: {exc.message}") from None
            self._networks.discard(net.get("Name", ""))
