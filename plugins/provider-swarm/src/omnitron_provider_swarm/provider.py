"""The ``swarm`` provider as omnitron sees it: it runs from a service's docker part, only when a stack names it.

This module stays light (the standard library only): ``infra plan`` reads
every installed provider's description. The methods live in
:class:`~.engine.SwarmEngineProvider`, imported when the first provider is made.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any, ClassVar

from omnitron.api import Provider

DEFAULT_HOST = "unix:///var/run/docker.sock"
AVAILABLE_TIMEOUT = 0.5


class SwarmProvider(Provider):
    """Runs each service as a Docker Swarm service of the project's attachable overlay network.

    Every service, secret, network and volume it creates carries ``omnitron.*``
    labels (project, stack, service, spec hash) and is only ever found again by
    them. Secrets reach the containers as Docker secrets mounted as files, never
    as env or arguments; ports are published on the node (see :mod:`.mesh`).
    """

    name = "swarm"
    install_hint = "pip install omnitron-provider-swarm, and run it against a swarm manager (docker swarm init)"
    runs_from: ClassVar[str | None] = "docker"
    assigns_host_ports = True
    manages_lifecycle = True
    auto_priority: ClassVar[int | None] = None
    """Never chosen by ``auto``: a cluster stack names it (``"provider": "swarm"``)."""
    data_noun = "its volumes"
    implementation = "omnitron_provider_swarm.engine:SwarmEngineProvider"

    @classmethod
    def can_run(cls, requirement: Any, preset: Any) -> bool:
        return requirement.docker is not None and bool(requirement.docker.image)

    @classmethod
    def cannot_run(cls, requirement: Any, preset: Any) -> str:
        return "has no docker image, so the swarm provider cannot run it as a Swarm service"

    @classmethod
    def is_available(cls) -> bool:
        """Whether the engine is a swarm node (the local socket's ``GET /info``; a remote ``DOCKER_HOST`` counts as one)."""
        host = os.environ.get("DOCKER_HOST", DEFAULT_HOST)
        if not host.startswith("unix://"):
            return True
        return swarm_state(host.removeprefix("unix://")) == "active"


def swarm_state(path: str, timeout: float = AVAILABLE_TIMEOUT) -> str | None:
    """``Swarm.LocalNodeState`` of the engine behind a unix socket (``active``, ``inactive``...), ``None`` when none answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /info HTTP/1.0\r\nHost: docker\r\n\r\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    _, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    try:
        return str((json.loads(body).get("Swarm") or {}).get("LocalNodeState"))
    except (ValueError, AttributeError):
        return None
