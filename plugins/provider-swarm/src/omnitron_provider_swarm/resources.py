"""The network, secrets and volumes around a stack's services: found by label, created labelled, never taken from someone else."""

from __future__ import annotations

from typing import Any

from omnitron.api import ProvisionError, RuntimeSpec

from .naming import (
    LABEL_FILE,
    LABEL_SERVICE,
    label_filter,
    network_name,
    is_ours,
    secret_name,
    secret_version,
    service_labels,
    stack_labels,
    volume_name,
)
from .spec import options, secret_files


def gone(message: object) -> bool:
    """Whether the engine's error says the object no longer exists: a swarm network the manager removed stays listed on
    the node while its last attachments go, and answers another removal with ``not found`` (a server error, not a 404)."""
    return "not found" in str(message).lower()


class ResourcesMixin:
    """Part of :class:`~.engine.SwarmEngineProvider`: what its services need around them."""

    ctx: Any
    _network: str | None
    _network_lock: Any
    # from SwarmEngineProvider: _engine()

    async def _ensure_network(self) -> str:
        """The project's attachable overlay network, ours by label; created when missing (once, however many services ask)."""
        async with self._network_lock:
            if self._network is None:
                self._network = await self._find_or_create_network()
        return self._network

    async def _find_or_create_network(self) -> str:
        engine = self._engine()
        name = network_name(self.ctx.project, self.ctx.stack)
        with engine.errors(f"looking up network {name}"):
            found = [n for n in await engine.docker.networks.list(filters={"name": name}) if n.get("Name") == name]
        if found and not is_ours(found[0].get("Labels"), self.ctx.project, self.ctx.stack):
            raise ProvisionError(f"a network named {name} exists and is not this project's and stack's; omnitron will not use it: remove or rename it")
        if found and found[0].get("Driver") != "overlay":
            raise ProvisionError(f"network {name} is a {found[0].get('Driver')} network, not an overlay one: remove it (docker network rm {name})")
        if not found:
            body = {"Name": name, "Driver": "overlay", "Attachable": True, "CheckDuplicate": True, "Labels": stack_labels(self.ctx.project, self.ctx.stack)}
            with engine.errors(f"creating overlay network {name}", ignore=(409,)):
                await engine.call("networks/create", method="POST", body=body)
        return name

    async def _ensure_secrets(self, spec: RuntimeSpec) -> dict[str, tuple[str, str]]:
        """Path in the container -> (id, name) of the Docker secret holding that file; one secret per content."""
        files = secret_files(spec)
        if not files:
            return {}
        engine = self._engine()
        svc = spec.service.name
        labels = service_labels(self.ctx.project, self.ctx.stack, svc)
        with engine.errors(f"service {svc}: listing its secrets"):
            existing = {s["Spec"]["Name"]: s["ID"] for s in await engine.docker.secrets.list(filters=label_filter(labels))}
        out: dict[str, tuple[str, str]] = {}
        for path, content in sorted(files.items()):
            name = secret_name(self.ctx.project, self.ctx.stack, svc, path, secret_version(self.ctx.project, self.ctx.stack, svc, path, content))
            if name not in existing:
                with engine.errors(f"service {svc}: creating the secret for {path}"):
                    created = await engine.docker.secrets.create(name=name, data=content, labels={**labels, LABEL_FILE: path})
                existing[name] = created["ID"]
            out[path] = (existing[name], name)
        return out

    async def _remove_secrets(self, labels: dict[str, str], *, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """Remove our secrets carrying ``labels`` but those named in ``keep`` (one still in use stays until its service goes)."""
        engine = self._engine()
        with engine.errors("listing secrets"):
            found = await engine.docker.secrets.list(filters=label_filter(labels))
        for secret in found:
            if secret["Spec"]["Name"] in keep or not is_ours(secret["Spec"].get("Labels"), self.ctx.project, self.ctx.stack):
                continue
            with engine.errors(f"removing secret {secret['Spec']['Name']}", ignore=(404, 400, 409)):
                await engine.docker.secrets.delete(secret["ID"])

    async def _volumes(self, spec: RuntimeSpec) -> dict[str, str]:
        """Named volume ``source`` -> the volume's name; a volume of that name not ours is never used."""
        svc = spec.service.name
        engine = self._engine()
        out: dict[str, str] = {}
        for vol in options(spec).volumes:
            if vol.type != "volume":
                continue
            name = volume_name(self.ctx.project, self.ctx.stack, svc, vol.source)
            with engine.errors(f"service {svc}: looking up volume {name}", ignore=(404,)):
                info = await engine.call(f"volumes/{name}")
                labels = info.get("Labels") or {}
                if not is_ours(labels, self.ctx.project, self.ctx.stack) or labels.get(LABEL_SERVICE) != svc:
                    raise ProvisionError(f"service {svc}: a volume named {name} exists and is not this service's; omnitron will not use it: remove or rename it")
            out[vol.source] = name
        return out

    async def _remove_volumes(self, labels: dict[str, str]) -> list[str]:
        """Remove this engine's volumes carrying ``labels``; the names of those still in use (a task not yet gone)."""
        engine = self._engine()
        with engine.errors("listing volumes"):
            listed = (await engine.docker.volumes.list(filters=label_filter(labels))).get("Volumes") or []
        busy: list[str] = []
        for vol in listed:
            if not is_ours(vol.get("Labels"), self.ctx.project, self.ctx.stack):
                continue
            try:
                await engine.call(f"volumes/{vol['Name']}", method="DELETE")
            except engine.error as exc:
                if exc.status == 409:
                    busy.append(vol["Name"])
                elif exc.status != 404:
                    raise ProvisionError(f"removing volume {vol['Name']}: {exc.message}") from None
        return busy

    async def _task_containers(self, labels: dict[str, str]) -> list[str]:
        """Containers of removed services' tasks that this engine has not removed yet."""
        import json

        engine = self._engine()
        with engine.errors("listing task containers"):
            found = await engine.call("containers/json", params={"all": "1", "filters": json.dumps(label_filter(labels))})
        return [f"task container {c['Id'][:12]}" for c in found if is_ours(c.get("Labels"), self.ctx.project, self.ctx.stack)]

    async def _remove_network(self) -> bool:
        """Remove the overlay network; ``True`` once it is no longer listed (the manager removes it at once, this node
        once its last attachments are gone), ``False`` while it is, or while something still uses it."""
        engine = self._engine()
        with engine.errors("listing networks"):
            found = await engine.docker.networks.list(filters=label_filter(stack_labels(self.ctx.project, self.ctx.stack)))
        self._network = None
        for net in found:
            try:
                await engine.call(f"networks/{net['Id']}", method="DELETE")
            except engine.error as exc:
                if exc.status not in (403, 404, 409) and not gone(exc.message):
                    raise ProvisionError(f"removing network {net.get('Name')}: {exc.message}") from None
        return not found
