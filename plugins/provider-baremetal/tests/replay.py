"""A local HTTP server that replays documented API responses and records the requests it got.

Used where no real server can be had on the test machines (a Consul agent,
a Kubernetes API server). Each route answers a fixed status and JSON body.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]


@dataclass
class Replay:
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    """Path -> (status, JSON body)."""
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self, tls: ssl.SSLContext | None = None) -> "Replay":
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                replay.seen.append(Seen(parts.path, parse_qs(parts.query, keep_blank_values=True), parts.query, {k.lower(): v for k, v in self.headers.items()}))
                status, body = replay.routes.get(parts.path, (404, {"message": f"no route {parts.path}"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
