"""The daemon survives a Docker engine that goes away and comes back.

The shared engine must not be restarted here, so the project reaches it
through a unix-socket forwarder of its own (``DOCKER_HOST=unix://...``): closing
the forwarder is, for the daemon, the engine disappearing (connections cut,
the socket gone); opening it again is the engine coming back. Everything
behind it is the real engine.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import socket
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest

from omnitron.testing import unavailable

from daemon_project import BASE_IMAGE, DaemonProject, docker, sleeper, wait_for

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]

ENGINE = Path("/var/run/docker.sock")


class Forwarder:
    """A unix socket that pipes every connection to the real engine, until :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server: socketserver.ThreadingUnixStreamServer | None = None
        self.conns: set[socket.socket] = set()

    def open(self) -> None:
        forwarder = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.connect(str(ENGINE))
                forwarder.conns |= {self.request, upstream}
                sel = selectors.DefaultSelector()
                sel.register(self.request, selectors.EVENT_READ, upstream)
                sel.register(upstream, selectors.EVENT_READ, self.request)
                try:
                    while True:
                        for key, _ in sel.select(timeout=1.0):
                            data = key.fileobj.recv(65536)
                            if not data:
                                return
                            key.data.sendall(data)
                except OSError:
                    return
                finally:
                    sel.close()
                    upstream.close()

        self.path.unlink(missing_ok=True)
        self.server = socketserver.ThreadingUnixStreamServer(str(self.path), Pipe)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for conn in list(self.conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.conns.clear()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def forwarded(tmp_path, omnitron_daemon):
    if shutil.which("docker") is None or not ENGINE.is_socket() or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no local Docker engine socket at /var/run/docker.sock")
    if not docker("images", "-q", BASE_IMAGE):
        unavailable(f"test image {BASE_IMAGE} is missing: run .ci/build-images.sh")
    forwarder = Forwarder(Path("/tmp") / f"omnitron-engine-{os.getpid()}-{tmp_path.name[-12:]}.sock")
    forwarder.open()
    omnitron_daemon.watch(tmp_path)
    p = DaemonProject(tmp_path, {"worker": sleeper()})
    p.env["DOCKER_HOST"] = f"unix://{forwarder.path}"
    yield p, forwarder
    forwarder.open()
    p.cleanup()
    forwarder.close()


def test_the_daemon_survives_the_engine_going_away_and_coming_back(forwarded):
    p, forwarder = forwarded
    p.ok("infra", "up")
    wait_for(lambda: p("daemon", "status").returncode == 0, 30, "the daemon running")
    pid = p.daemon_pid()
    after = p.last_id()
    forwarder.close()
    [gone] = p.wait_event("provider-error", after=after, timeout=30)
    assert "docker" in gone["reason"] and "left alone" in gone["reason"]
    status = json.loads(p.ok("daemon", "status", "--json"))
    assert status["running"] and status["pid"] == pid
    forwarder.open()
    p.wait_event("provider-back", after=after, timeout=30)
    after = p.last_id()
    docker("stop", "-t", "1", p.container("worker"))
    p.wait_event("start", "worker", after=after, timeout=30)
    p.wait_event("ready", "worker", after=after, timeout=30)
    assert p.daemon_pid() == pid
