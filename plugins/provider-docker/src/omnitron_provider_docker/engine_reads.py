"""Read-only Docker Engine API calls over the local Unix socket, with the standard library alone.

A no-op ``infra up`` only reads (ping, list containers by label, inspect):
serving those here keeps the asynchronous client (aiodocker, aiohttp), which
takes a quarter of a second to import, for the commands that change
something. Blocking: call from a worker thread.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

SOCKET_PATHS = (Path("/var/run/docker.sock"), Path("/run/docker.sock"))


class EngineReadError(Exception):
    """The engine answered with an error status, or could not be reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def local_socket() -> Path | None:
    """The engine's Unix socket when the engine is local (``DOCKER_HOST`` unset or ``unix://``)."""
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        return Path(host.removeprefix("unix://")) if host.startswith("unix://") else None
    return next((p for p in SOCKET_PATHS if p.is_socket()), None)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def get(path: Path, url: str, *, timeout: float = 10.0) -> Any:
    """``GET url`` on the engine at ``path``; the decoded JSON body."""
    conn = _UnixConnection(path, timeout)
    try:
        conn.request("GET", url, headers={"Host": "docker"})
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        raise EngineReadError(900, f"cannot reach the Docker engine at {path}: {exc}") from None
    finally:
        conn.close()
    if resp.status >= 400:
        try:
            message = json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            message = body.decode(errors="replace")
        raise EngineReadError(resp.status, message or resp.reason)
    return json.loads(body) if body else None


def ping(path: Path, *, timeout: float) -> bool:
    conn = _UnixConnection(path, timeout)
    try:
        conn.request("GET", "/_ping", headers={"Host": "docker"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def list_containers(path: Path, filters: dict[str, list[str]], *, all: bool) -> list[dict[str, Any]]:
    query = f"all={'1' if all else '0'}&filters={quote(json.dumps(filters))}"
    return get(path, f"/containers/json?{query}")


def inspect_container(path: Path, container_id: str) -> dict[str, Any] | None:
    try:
        return get(path, f"/containers/{quote(container_id)}/json")
    except EngineReadError as exc:
        if exc.status == 404:
            return None
        raise
