"""Support for the engine tests: a small real provider and real servers.

:class:`ChildProcessProvider` registers as ``process`` (the real process
provider is a separate package the core tests do not install). It is a
complete, if minimal, provider: it runs the service's ``process.command`` as a
child process, keeps it across sessions, recreates it only when the spec hash
changes, runs ``exec`` commands for real and checks host ports by binding them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from omnitron import hookimpl
from omnitron.providers import ContainerState, ExecResult, Provider, RuntimeSpec


@dataclass
class Child:
    process: subprocess.Popen
    spec_hash: str
    ports: dict[str, int]
    log: Path
    env: dict[str, str] = field(default_factory=dict)


class ChildProcessProvider(Provider):
    name = "process"
    runs_from = "process"
    assigns_host_ports = True
    auto_priority = 10
    data_noun = "its data directory"
    children: ClassVar[dict[tuple[str, str], Child]] = {}
    starts: ClassVar[list[str]] = []
    data_removed: ClassVar[list[str]] = []
    begun: ClassVar[list[dict]] = []
    """Each :meth:`begin_up`: the services it was given, what had started then, whether the port check ran meanwhile, how it ended."""
    begin_fails: ClassVar[bool] = False
    begin_blocks: ClassVar[bool] = False
    _ports_checked: ClassVar[object] = None

    def _key(self, name: str) -> tuple[str, str]:
        return (str(self.ctx.state_dir), name)

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        svc = spec.service
        key = self._key(svc.name)
        child = self.children.get(key)
        if child is not None and child.process.poll() is None and child.spec_hash == svc.spec_hash:
            return self._state(svc.name, child)
        if child is not None:
            self._terminate(child)
        self.ctx.progress(svc.name, "starting", " ".join(spec.command or [])[:60])
        self.ctx.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.ctx.state_dir / f"{svc.name.replace('/', '_')}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(spec.command, env={**os.environ, **spec.env}, stdout=out, stderr=subprocess.STDOUT)
        child = self.children[key] = Child(process, svc.spec_hash, dict(svc.ports), log, dict(spec.env))
        self.starts.append(svc.name)
        return self._state(svc.name, child)

    def _state(self, name: str, child: Child) -> ContainerState:
        running = child.process.poll() is None
        return ContainerState(name=name, image="child-process", status="running" if running else "exited", container_id=str(child.process.pid), ports=child.ports, provider=self.name, spec_hash=child.spec_hash)

    @staticmethod
    def _terminate(child: Child) -> None:
        if child.process.poll() is None:
            child.process.terminate()
            child.process.wait(10)

    async def list_managed(self) -> dict[str, ContainerState]:
        mine = {name: child for (root, name), child in self.children.items() if root == str(self.ctx.state_dir)}
        return {name: self._state(name, child) for name, child in mine.items()}

    async def stop(self, name: str) -> None:
        child = self.children.get(self._key(name))
        if child is not None:
            self._terminate(child)

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        child = self.children.pop(self._key(name), None)
        if child is not None:
            self._terminate(child)
        if volumes:
            self.data_removed.append(name)

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        child = self.children.get(self._key(name))
        if child is None:
            return
        lines = child.log.read_text(errors="replace").splitlines()
        for line in lines[-tail:] if tail else lines:
            yield line

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None, input: bytes | None = None) -> ExecResult:
        import anyio

        result = await anyio.run_process(command, check=False, input=input, stderr=subprocess.STDOUT)
        return ExecResult(result.returncode, result.stdout.decode(errors="replace"))

    async def begin_up(self, services) -> None:
        """Notes the call; waits (up to 5 s) for the port check to run meanwhile; then fails or blocks when told to."""
        import anyio

        record = {"services": [s.name for s in services], "started": list(self.starts), "ports_checked": False, "end": "running"}
        self.begun.append(record)
        try:
            with anyio.move_on_after(5):
                await self._port_check().wait()
                record["ports_checked"] = True
            if self.begin_fails:
                raise RuntimeError("cannot begin")
            if self.begin_blocks:
                await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            record["end"] = "cancelled"
            raise
        record["end"] = "done"

    @classmethod
    def _port_check(cls):
        import anyio

        if cls._ports_checked is None:
            cls._ports_checked = anyio.Event()
        return cls._ports_checked

    async def check_ports(self, services) -> list[str]:
        self._port_check().set()
        problems = []
        for svc in services:
            child = self.children.get(self._key(svc.name))
            if child is not None and child.process.poll() is None:
                continue
            for port_name, port in svc.ports.items():
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is no owner
                    try:
                        s.bind(("127.0.0.1", port))
                    except OSError:
                        problems.append(f"port {port} ({port_name}) of service {svc.name} is taken by another program")
        return problems

    @classmethod
    def stop_all(cls) -> None:
        for child in cls.children.values():
            cls._terminate(child)
        cls.children.clear()
        cls.starts.clear()
        cls.data_removed.clear()
        cls.begun.clear()
        cls.begin_fails = cls.begin_blocks = False
        cls._ports_checked = None


class ChildProcessPlugin:
    @hookimpl
    def omnitron_add_providers(self):
        return [ChildProcessProvider]


HTTP_SERVER = textwrap.dedent(
    """
    import http.server, os, sys, time
    port = int(sys.argv[1]); delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0
    out = os.environ.get("ENV_DUMP")
    if out:
        open(out, "w").write(os.environ.get("TOKEN", ""))
    time.sleep(delay)
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404); self.end_headers(); self.wfile.write(b"ok")
        def log_message(self, *a):
            print("GET", self.path, flush=True)
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
    """
)


def http_service(port: int, *, delay: float = 0.0, **extra) -> dict:
    """A custom service: a real HTTP server run by the ``process`` provider, gated on ``GET /healthz``."""
    return {
        "type": "daemon",
        "ports": {"http": port},
        "env": {"SVC_URL": "http://${host}:${port:http}"},
        "process": {"command": [sys.executable, "-c", HTTP_SERVER, "${port:http}", str(delay)]},
        "healthCheck": {"http": {"path": "/healthz", "port": "http"}, "timeout": "2s"},
        **extra,
    }


