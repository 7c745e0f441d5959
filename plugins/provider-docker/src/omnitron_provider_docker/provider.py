"""The ``docker`` provider as omnitron sees it: what it runs from, its priority, whether an engine answers.

This module stays light (the standard library only): ``infra plan`` reads
every installed provider's description. The methods live in
:class:`~.engine.DockerEngineProvider`, imported when the first provider is
made (``DockerProvider(ctx)`` makes one).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, ClassVar

from omnitron.api import Provider

if TYPE_CHECKING:
    from omnitron.api import ContainerState, QuickCheck

DEFAULT_HOST = "unix:///var/run/docker.sock"
AVAILABLE_TIMEOUT = 0.5


class DockerProvider(Provider):
    """Runs each service as a container of the stack's network, on 127.0.0.1 ports.

    Every container, volume and network it creates carries ``omnitron.*``
    labels (project, stack, service, spec hash) and is only ever found again by
    them; objects without our labels are never modified or removed.
    """

    name = "docker"
    install_hint = "install and start Docker (https://docs.docker.com/engine/install/), or use the process provider"
    runs_from: ClassVar[str | None] = "docker"
    assigns_host_ports = True
    manages_lifecycle = True
    auto_priority: ClassVar[int | None] = 20
    data_noun = "its volumes"
    implementation = "omnitron_provider_docker.engine:DockerEngineProvider"

    @classmethod
    def is_available(cls) -> bool:
        """Whether a Docker engine socket answers (cheap: a connect, no API call); a remote ``DOCKER_HOST`` counts as there."""
        host = os.environ.get("DOCKER_HOST", DEFAULT_HOST)
        if not host.startswith("unix://"):
            return True
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(AVAILABLE_TIMEOUT)
                sock.connect(host.removeprefix("unix://"))
        except OSError:
            return False
        return True

    @classmethod
    async def available(cls) -> bool:
        """Whether an engine answers an API ping (``DOCKER_HOST`` or the local socket) within half a second."""
        from .client import engine_available

        return await engine_available(AVAILABLE_TIMEOUT)

    def quick_checks(self, state: ContainerState) -> list[QuickCheck] | None:
        """``GET /containers/<id>/json`` on the local engine's socket: still running, started when it was seen
        (a restarted or recreated container fails it). A remote engine: none (the full path asks it)."""
        from omnitron.api import QuickCheck

        from .engine_reads import local_socket

        sock = local_socket()
        if sock is None or not state.container_id:
            return None
        expect: dict[str, object] = {"State.Running": True}
        if state.started_at:
            expect["State.StartedAt"] = state.started_at
        return [QuickCheck.http(f"/containers/{state.container_id}/json", socket=str(sock), json=expect)]
