"""HTTP/1.1 over the daemon's unix socket, with the standard library's ``socket`` and ``json`` alone.

The command line asks a running daemon before anything heavy is imported, so
this client is small on purpose: ``http.client`` alone costs about 40 ms to
import (it pulls in the ``email`` package), close to half of the 100 ms a
fast command may take. Each request is one connection (``Connection: close``);
responses are read to the end, ``chunked`` ones decoded, streamed ones read
line by line (:func:`stream_lines`).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

MAX_PATH = 100
"""Longer socket paths (deep temporary directories) are reached through ``/proc/self/fd``."""


class WireError(Exception):
    """The daemon did not answer as HTTP should (no daemon, a broken connection, a malformed reply)."""


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def at_path(path: Path, use: "Callable[[str], None]") -> None:
    """``use(address)`` with an address for the socket at ``path``, through ``/proc/self/fd`` when the path is too long for ``AF_UNIX``."""
    if len(str(path)) <= MAX_PATH:
        use(str(path))
        return
    fd = os.open(path.parent, os.O_PATH)
    try:
        use(f"/proc/self/fd/{fd}/{path.name}")
    finally:
        os.close(fd)


def connect(path: Path, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        at_path(path, sock.connect)
    except OSError as exc:
        sock.close()
        raise WireError(f"cannot connect to {path}: {exc.strerror or exc}") from None
    return sock


def _send(sock: socket.socket, method: str, target: str, body: Any) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {target} HTTP/1.1\r\nHost: omnitron\r\nConnection: close\r\nAccept: application/json\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    sock.sendall(head.encode() + b"\r\n" + payload)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self.fill():
                raise WireError("connection closed in the middle of a reply")
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise WireError("connection closed in the middle of a reply")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def rest(self) -> bytes:
        while self.fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def head(self) -> tuple[int, dict[str, str]]:
        try:
            _, code, *_ = self.line().decode("latin-1").split(" ", 2)
            status = int(code)
        except ValueError:
            raise WireError("not an HTTP reply") from None
        headers: dict[str, str] = {}
        while line := self.line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self.line().split(b";")[0], 16)
            if size == 0:
                return
            yield self.exactly(size)
            self.exactly(2)


def request(path: Path, method: str, target: str, body: Any = None, *, timeout: float = 5.0) -> Reply:
    """One request to the daemon at socket ``path``; the whole reply.

    :raises WireError: no daemon answers, or the reply is not HTTP.
    """
    sock = connect(path, timeout)
    try:
        _send(sock, method, target, body)
        reader = _Reader(sock)
        status, headers = reader.head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = b"".join(reader.chunks())
        elif "content-length" in headers:
            data = reader.exactly(int(headers["content-length"]))
        else:
            data = reader.rest()
        return Reply(status, headers, data)
    except (OSError, ValueError) as exc:
        raise WireError(f"{method} {target}: {exc}") from None
    finally:
        sock.close()


def stream_lines(path: Path, target: str, *, timeout: float | None = None) -> Iterator[bytes]:
    """``GET target`` and yield the reply's lines as they come (NDJSON, logs).

    :raises WireError: no daemon answers, or it answers with an error status.
    """
    sock = connect(path, 5.0)
    try:
        _send(sock, "GET", target, None)
        reader = _Reader(sock)
        status, headers = reader.head()
        sock.settimeout(timeout)
        if status >= 400:
            raise WireError(f"GET {target}: HTTP {status}")
        pending = b""
        for piece in reader.chunks() if headers.get("transfer-encoding", "").lower() == "chunked" else _until_closed(reader):
            pending += piece
            *lines, pending = pending.split(b"\n")
            yield from lines
        if pending:
            yield pending
    except (OSError, ValueError) as exc:
        raise WireError(f"GET {target}: {exc}") from None
    finally:
        sock.close()


def _until_closed(reader: _Reader) -> Iterator[bytes]:
    while True:
        if reader.buf:
            data, reader.buf = reader.buf, b""
            yield data
        if not reader.fill():
            return
