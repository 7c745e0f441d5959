"""``infra wait`` (probe until healthy, provision nothing) and ``infra status --check`` (exit 3 when not ready)."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron.hostports import free_port

pytestmark = pytest.mark.usefixtures("omnitron_isolated")


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def procs(register_plugin):
    register_plugin(ChildProcessPlugin(), name="child-process")
    yield ChildProcessProvider
    ChildProcessProvider.stop_all()


def external(port: int) -> dict:
    service = {"ports": {"http": 1}, "docker": {"image": "x:1"}, "healthCheck": {"http": {"path": "/", "port": "http"}, "timeout": "1s"}}
    return {"project": "waits", "infrastructure": {"services": {"api": service}}, "stacks": {"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"http": port}}}}}}}


def test_wait_and_status_check_before_and_after_up(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write({"project": "waits", "infrastructure": {"services": {"api": http_service(free_port()), "web": http_service(free_port())}}, "stacks": {"dev": {"provider": "process"}}})
    where = ("--project", str(project.root))
    started = time.monotonic()
    failed = omnitron_cli("infra", "wait", "api", "--timeout", "300ms", *where)
    assert failed.code == 1 and time.monotonic() - started < 5
    assert "service api is not healthy after 300ms; last probe: GET http://127.0.0.1:" in failed.err, failed.err
    assert "web" not in failed.err  # only the service asked for
    assert omnitron_cli("infra", "status", "--check", *where).code == 3
    assert omnitron_cli("infra", "status", *where).code == 0
    assert ChildProcessProvider.starts == []  # waiting provisions nothing
    assert omnitron_cli("infra", "up", *where).code == 0
    ok = omnitron_cli("infra", "wait", *where)
    assert ok.code == 0 and "healthy api" in ok.out and "healthy web" in ok.out, ok.err
    data = omnitron_cli("infra", "wait", "web", "--json", *where).json()
    assert data["ready"] is True and list(data["services"]) == ["web"] and data["services"]["web"]["healthy"] is True
    assert omnitron_cli("infra", "status", "--check", "--json", *where).code == 0


def test_wait_returns_once_a_service_comes_up(omnitron_project, omnitron_cli):
    """No timing: the service answers 503 until it has been probed twice, so the wait must probe again and again."""
    port = free_port()
    project = omnitron_project.write(external(port))
    answers: list[int] = []

    class _ComesUp(_Health):
        def do_GET(self):
            answers.append(503 if len(answers) < 2 else 200)
            self.send_response(answers[-1])
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _ComesUp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = omnitron_cli("infra", "wait", "--timeout", "20s", "--json", "--project", str(project.root))
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 0, result.out
    assert answers[:3] == [503, 503, 200], answers
    assert result.json()["services"]["api"]["healthy"] is True


def test_wait_rejects_an_unknown_service_and_a_bad_timeout(omnitron_project, omnitron_cli):
    project = omnitron_project.write(external(free_port()))
    unknown = omnitron_cli("infra", "wait", "nope", "--project", str(project.root))
    assert unknown.code == 2 and "no service named 'nope'" in unknown.err and "services: api" in unknown.err
    bad = omnitron_cli("infra", "wait", "--timeout", "soon", "--project", str(project.root))
    assert bad.code == 2 and "--timeout: invalid duration 'soon'" in bad.err
