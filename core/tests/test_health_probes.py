"""The built-in probes against real sockets and a real HTTP server."""

import http.server
import socket
import threading

import pytest

from _tcp import tcp_server
from omnitron.health import CommandProbe, HttpProbe, TcpProbe
from omnitron.model import CommandCheck, HttpCheck, TcpCheck
from omnitron.plan import PlannedService
from omnitron.providers import ExecResult
from omnitron.runtime import ServiceHandle


def handle(port: int, exec_result: ExecResult | None = None) -> ServiceHandle:
    svc = PlannedService(name="svc", provider="docker", host="127.0.0.1", ports={"main": port}, target_ports={"main": 80})

    async def run(cmd):
        return exec_result

    return ServiceHandle(service=svc, project="p", stack="dev", host="127.0.0.1", ports={"main": port}, secret=lambda n: "", exec=run)


@pytest.mark.anyio
async def test_tcp_open_port_is_healthy():
    with tcp_server(keep=True) as port:
        result = await TcpProbe().check(TcpCheck(port="main"), handle(port), 2)
    assert result.ok, result.detail


@pytest.mark.anyio
async def test_tcp_proxy_that_closes_at_once_is_not_healthy():
    with tcp_server(keep=False) as port:
        result = await TcpProbe().check(TcpCheck(port="main"), handle(port), 2)
    assert not result.ok and "closed at once" in result.detail


@pytest.mark.anyio
async def test_tcp_closed_port_is_not_healthy():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    result = await TcpProbe().check(TcpCheck(port=80), handle(port), 1)
    assert not result.ok and str(port) in result.detail


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "ok"), [(200, True), (503, False)])
async def test_http_probe_checks_the_status(status, ok):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = await HttpProbe().check(HttpCheck(path="/healthz", port="main"), handle(server.server_address[1]), 2)
    finally:
        server.shutdown()
        server.server_close()
    assert result.ok is ok, result.detail


@pytest.mark.anyio
async def test_command_probe_uses_the_exit_code():
    good = await CommandProbe().check(CommandCheck(exec=["pg_isready"]), handle(1, ExecResult(0, "accepting connections\n")), 1)
    bad = await CommandProbe().check(CommandCheck(exec=["pg_isready"]), handle(1, ExecResult(2, "no response\n")), 1)
    assert good.ok and not bad.ok
    assert "exit 2" in bad.detail and "no response" in bad.detail


def test_the_stand_in_server_is_gone_once_its_block_ends():
    """No thread left blocked in accept() holding the port open: a later test connecting there would be accepted,
    and the connection garbage-collected in whichever test then runs (an unclosed-socket warning failing it)."""
    with tcp_server(keep=True) as port:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    assert not [t for t in threading.enumerate() if t.name.endswith("(accept)")]
