"""The Docker engine client, loaded on first need (aiodocker), and its errors as one-line messages."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from omnitron.api import ProvisionError

NO_ENGINE_HINT = "start Docker (or set DOCKER_HOST to a swarm manager)"
NOT_IN_SWARM_HINT = "run `docker swarm init` (or `docker swarm join`), or point DOCKER_HOST at a swarm manager"


class Engine:
    """An aiodocker connection with the few raw calls aiodocker has no method for (a full service update)."""

    def __init__(self) -> None:
        import aiodocker
        import aiohttp
        from aiodocker.exceptions import DockerError

        self.error = DockerError
        self.client_error = aiohttp.ClientError
        try:
            self.docker = aiodocker.Docker(timeout=aiohttp.ClientTimeout(total=120, sock_connect=10))
        except (ValueError, AssertionError) as exc:
            raise ProvisionError(f"no Docker engine configured ({exc}): {NO_ENGINE_HINT}") from None

    async def close(self) -> None:
        await self.docker.close()

    async def call(self, path: str, *, method: str = "GET", body: Any = None, params: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body) if body is not None else None
        return await self.docker._query_json(path, method=method, data=data, params=params)

    @contextlib.contextmanager
    def errors(self, what: str, *, ignore: tuple[int, ...] = ()) -> Iterator[None]:
        """The engine's errors as a :class:`ProvisionError` saying what was being done; ``ignore``: statuses that are fine."""
        try:
            yield
        except self.error as exc:
            if exc.status in ignore:
                return
            if exc.status == 900:
                raise ProvisionError(f"{what}: no Docker engine answers ({exc.message}): {NO_ENGINE_HINT}") from None
            if exc.status == 503 and "swarm" in str(exc.message).lower():
                raise ProvisionError(f"{what}: this Docker engine is not a swarm manager: {NOT_IN_SWARM_HINT}") from None
            raise ProvisionError(f"{what}: {exc.message}") from None
        except self.client_error as exc:
            raise ProvisionError(f"{what}: the Docker engine connection failed ({type(exc).__name__}: {exc})") from None

    async def require_manager(self) -> dict[str, Any]:
        """``docker info``'s swarm part, or a :class:`ProvisionError` when the engine is no swarm manager."""
        with self.errors("asking the Docker engine for its swarm state"):
            info = await self.docker.system.info()
        swarm = info.get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active":
            raise ProvisionError(f"the Docker engine is not in swarm mode (state {swarm.get('LocalNodeState') or 'inactive'}): {NOT_IN_SWARM_HINT}")
        if not swarm.get("ControlAvailable"):
            raise ProvisionError("this Docker engine is a swarm worker, not a manager: point DOCKER_HOST at a manager node")
        return swarm
