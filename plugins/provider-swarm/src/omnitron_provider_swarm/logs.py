"""Logs, commands in a running task, and host ports: the parts of the swarm provider that read or run, changing nothing."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

from omnitron.api import ExecResult, PlannedService, ProvisionError, addresses_overlap, describe_listeners, is_listening, text_lines

from .state import container_id, running_tasks

ALL_ADDRESSES = "0.0.0.0"
"""Swarm publishes a port on every address of the node (it has no per-address binding)."""


class LogsMixin:
    """Part of :class:`~.engine.SwarmEngineProvider`."""

    ctx: Any
    name: str
    # from SwarmEngineProvider: _engine(), _service(), _services(), _tasks()

    async def _require(self, name: str) -> dict[str, Any]:
        service = await self._service(name)  # type: ignore[attr-defined]
        if service is None:
            raise ProvisionError(f"service {name}: no swarm service in stack {self.ctx.stack} of project {self.ctx.project} (run `omnitron infra up`)")
        return service

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        """The service's output (every task's stdout and stderr), line by line."""
        from aiodocker.multiplexed import multiplexed_result_stream

        service = await self._require(name)
        engine = self._engine()  # type: ignore[attr-defined]
        params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0", "tail": str(tail) if tail is not None else "all"}
        with engine.errors(f"service {name}: reading logs"):
            async with engine.docker._query(f"services/{service['ID']}/logs", params=params, timeout=None) as response:
                try:
                    async for line in text_lines(multiplexed_result_stream(response, is_tty=False)):
                        yield line
                finally:
                    response.close()

    async def _running_container(self, name: str) -> str:
        """The id of the service's running task's container, which must run on this engine's node."""
        service = await self._require(name)
        running = running_tasks(await self._tasks(service["ID"]))  # type: ignore[attr-defined]
        if not running:
            raise ProvisionError(f"service {name} has no running task: `omnitron infra up` first")
        cid = container_id(running[0])
        engine = self._engine()  # type: ignore[attr-defined]
        try:
            await engine.call(f"containers/{cid}/json")
        except engine.error:
            raise ProvisionError(f"service {name}: its task runs on another node ({running[0].get('NodeID', '?')[:12]}); run this against that node's engine") from None
        return str(cid)

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        """Run ``command`` in the service's running task (stdout and stderr merged)."""
        import anyio

        cid = await self._running_container(name)
        engine = self._engine()  # type: ignore[attr-defined]
        chunks: list[bytes] = []
        with engine.errors(f"service {name}: running {command[0]!r} in its task"):
            execution = await engine.docker.containers.container(cid).exec(list(command), stdout=True, stderr=True, stdin=False, tty=False)
            with anyio.fail_after(timeout):
                async with execution.start(detach=False) as stream:
                    while (message := await stream.read_out()) is not None:
                        chunks.append(message.data)
            info = await execution.inspect()
        code = info.get("ExitCode")
        return ExecResult(exit_code=code if code is not None else -1, output=b"".join(chunks).decode("utf-8", "replace"))

    async def interactive_argv(self, name: str, command: list[str], *, env_names: tuple[str, ...] = ()) -> list[str] | None:
        """``docker exec -it CONTAINER COMMAND`` on the running task's container; ``None`` without the docker CLI."""
        if shutil.which("docker") is None:
            return None
        cid = await self._running_container(name)
        argv = ["docker", "exec", "-it"]
        for env_name in env_names:
            argv += ["-e", env_name]
        return [*argv, cid, *command]

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """Host ports of our services held by something other than this stack's own swarm service."""
        import anyio

        ours = [s for s in services if s.provider == self.name and s.ports]
        if not ours:
            return []
        published: dict[int, str] = {}
        for service in await self._services({"omnitron.project": self.ctx.project, "omnitron.stack": self.ctx.stack}):  # type: ignore[attr-defined]
            for port in ((service.get("Spec") or {}).get("EndpointSpec") or {}).get("Ports") or []:
                published[int(port.get("PublishedPort") or 0)] = service["Spec"]["Labels"].get("omnitron.service", "")
        problems: list[str] = []
        for svc in ours:
            for port in sorted(svc.ports.values()):
                if published.get(port) == svc.name:
                    continue
                if published.get(port):
                    problems.append(f"port {port} (service {svc.name}) is published by this stack's service {published[port]}")
                elif addresses_overlap(ALL_ADDRESSES, svc.bind_address) and await anyio.to_thread.run_sync(is_listening, port, "127.0.0.1"):
                    who = await anyio.to_thread.run_sync(describe_listeners, port, "127.0.0.1")
                    problems.append(f"port {port} (service {svc.name}) is already in use by {who}")
        return problems
