"""Docker Engine API calls over the local Unix socket, with the standard library alone.

A no-op ``infra up`` only reads (ping, list containers by label, inspect), and
a cold one only makes plain requests (create a network, a volume, a
container, start it): serving those here keeps the asynchronous client
(aiodocker, aiohttp), which takes a quarter of a second to import, for
streams (logs, pulls) and remote engines. Blocking: call from a worker thread.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

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


def __getattr__(name: str) -> Any:
    if name == "UnixConnection":  # http.client costs 10 ms of import: only the archive streams need it
        return _unix_connection()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _unix_connection() -> Any:
    import http.client

    class UnixConnection(http.client.HTTPConnection):
        """An HTTP connection to the engine's Unix socket (for streaming an archive in or out)."""

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

    globals()["UnixConnection"] = UnixConnection
    return UnixConnection


def get(path: Path, url: str, *, timeout: float = 10.0) -> Any:
    """``GET url`` on the engine at ``path``; the decoded JSON body."""
    return request(path, "GET", url, timeout=timeout)


def request(path: Path, method: str, url: str, *, params: dict[str, Any] | None = None, body: Any = None, timeout: float = 120.0) -> Any:
    """``METHOD url?params`` with a JSON ``body`` on the engine at ``path``; the decoded JSON answer (``None`` when empty)."""
    status, reason, answer = _send(path, method, url, params, body, timeout)
    if status >= 400:
        try:
            message = json.loads(answer).get("message", "")
        except (ValueError, AttributeError):
            message = answer.decode(errors="replace")
        raise EngineReadError(status, message or reason)
    return json.loads(answer) if answer else None


def stream(path: Path, method: str, url: str, *, params: dict[str, Any] | None = None, body: Any = None, timeout: float = 120.0) -> bytes:
    """Like :func:`request`, for an answer that is a raw stream (logs, exec output): its bytes, read until the engine ends it."""
    status, reason, answer = _send(path, method, url, params, body, timeout)
    if status >= 400:
        raise EngineReadError(status, answer.decode(errors="replace").strip() or reason)
    return answer


def _send(path: Path, method: str, url: str, params: dict[str, Any] | None, body: Any, timeout: float) -> tuple[int, str, bytes]:
    """One HTTP/1.0 exchange on the socket (the engine answers without chunks, then closes): status, reason, body."""
    if params:
        url += ("&" if "?" in url else "?") + urlencode({k: query_value(v) for k, v in params.items()})
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {url} HTTP/1.0\r\nHost: docker\r\nConnection: close\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    elif method in ("POST", "PUT"):
        head += "Content-Length: 0\r\n"
    chunks: list[bytes] = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(head.encode() + b"\r\n" + data)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise EngineReadError(900, f"cannot reach the Docker engine at {path}: {exc}") from None
    answer = b"".join(chunks)
    header, sep, payload = answer.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].split(b" ", 2)
    if not sep or len(status_line) < 2 or not status_line[1].isdigit():
        raise EngineReadError(900, f"the Docker engine at {path} sent no HTTP answer to {method} {url}")
    return int(status_line[1]), (status_line[2] if len(status_line) > 2 else b"").decode(errors="replace"), payload


def attach_stdin(path: Path, container_id: str, *, timeout: float = 30.0) -> socket.socket:
    """A socket attached to the container's stdin (the connection upgraded to a raw stream), for :func:`feed`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
        url = f"/containers/{quote(container_id)}/attach?stream=1&stdin=1&stdout=0&stderr=0"
        sock.sendall(f"POST {url} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise EngineReadError(500, "the engine closed the attach connection")
            head += chunk
        status = int(head.split(b" ", 2)[1])
        if status not in (101, 200):
            raise EngineReadError(status, head.partition(b"\r\n\r\n")[2].decode(errors="replace").strip() or f"attach answered {status}")
    except OSError as exc:
        sock.close()
        raise EngineReadError(900, f"cannot reach the Docker engine at {path}: {exc}") from None
    except EngineReadError:
        sock.close()
        raise
    return sock


def feed(sock: socket.socket, data: bytes) -> None:
    """Write ``data`` to an attached stdin and close it (the process reads it to its end)."""
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise EngineReadError(900, f"writing to the container's stdin: {exc}") from None
    finally:
        sock.close()


def demultiplex(data: bytes) -> str:
    """The text of a non-TTY stream: frames of an 8-byte header (stream, 0, 0, 0, big-endian size) and a payload."""
    out: list[bytes] = []
    position = 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position + 4 : position + 8], "big")
        out.append(data[position + 8 : position + 8 + size])
        position += 8 + size
    return b"".join(out).decode("utf-8", "replace")


def query_value(value: Any) -> str:
    """A query parameter as the Engine API reads it: booleans as 1/0, filters as JSON."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def ping(path: Path, *, timeout: float) -> bool:
    try:
        return _send(path, "GET", "/_ping", None, None, timeout)[0] == 200
    except EngineReadError:
        return False


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
