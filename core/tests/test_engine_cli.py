"""``omnitron infra up|down|status|ps|logs|env|migrate|reset`` and ``omnitron run``, end to end.

In-process commands run against real child processes (``ChildProcessProvider``)
or a real HTTP server reached through the ``external`` provider; ``omnitron
run`` runs as a real subprocess, because it replaces itself with the command.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron.hostports import free_port
from omnitron.secrets.resolve import backend_for
from omnitron.state import StateStore

pytestmark = pytest.mark.usefixtures("omnitron_isolated")


@pytest.fixture
def procs(register_plugin):
    """The test provider (``omnitron_cli`` runs commands with the same plugin manager)."""
    register_plugin(ChildProcessPlugin(), name="child-process")
    yield ChildProcessProvider
    ChildProcessProvider.stop_all()


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_server():
    """A real HTTP server in this process, for ``external`` services."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def ext_service(**extra) -> dict:
    return {"type": "daemon", "ports": {"http": 1}, "env": {"SVC_URL": "http://${host}:${port:http}/x"}, "docker": {"image": "svc:1"}, "healthCheck": {"http": {"path": "/healthz", "port": "http"}}, **extra}


def ext_eco(port: int, *, apps: list | None = None, **services) -> dict:
    services = services or {"api": ext_service()}
    return {
        "project": "shop",
        "apps": apps or [],
        "infrastructure": {"services": services},
        "stacks": {"dev": {"serviceOverrides": {name: {"external": {"host": "127.0.0.1", "ports": {"http": port}}} for name in services}}},
    }


def proc_eco(services: dict) -> dict:
    return {"project": "shop", "infrastructure": {"services": services}, "stacks": {"dev": {"provider": "process"}}}


def omnitron(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real ``omnitron`` command in a subprocess."""
    return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


# -- up / status / down -------------------------------------------------------------


def test_up_json_reports_each_service_with_phases(omnitron_project, omnitron_cli, http_server):
    project = omnitron_project.write(ext_eco(http_server), {"web": {"services": {"api": True}}})
    res = omnitron_cli("infra", "up", "--project", str(project.root), "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert data["ok"] is True
    assert data["services"]["api"]["status"] == "ready"
    assert data["services"]["api"]["provider"] == "external"
    assert set(data["services"]["api"]["phases"]) >= {"starting", "waiting"}
    assert "provider" in data and "external" in data["provider"]


def test_up_plain_lines_name_phases_and_times(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    res = omnitron_cli("infra", "up", "--project", str(project.root))
    assert res.code == 0, res.err
    assert "provider process" in res.out
    assert "api: waiting for health" in res.out
    assert "api: ready" in res.out
    assert "ready: 1 service in" in res.out


def test_up_failure_exits_1_naming_the_service_and_next_step(omnitron_project, omnitron_cli):
    eco = ext_eco(free_port(), api=ext_service(startupTimeout="200ms"))
    project = omnitron_project.write(eco)
    res = omnitron_cli("infra", "up", "--project", str(project.root))
    assert res.code == 1
    assert "service api did not become healthy within its startupTimeout of 0.2s" in res.out
    assert "omnitron infra logs api" in res.out


def test_bracketed_words_in_failures_warnings_and_env_are_printed_verbatim_on_one_line(omnitron_project, omnitron_cli):
    # console markup must not take "[admin]" for a tag: the path is what the user declared, the value what the app gets
    probe = {"http": {"path": "/[admin]", "port": "http"}}
    eco = ext_eco(free_port(), api=ext_service(startupTimeout="200ms", healthCheck=probe), opt=ext_service(startupTimeout="200ms", critical=False, healthCheck=probe, env={}))
    eco["apps"] = [{"name": "web"}]
    project = omnitron_project.write(eco, {"web": {"services": {"api": True}, "env": {"LIST": "[a] [/b] x"}}})
    up = omnitron_cli("infra", "up", "--project", str(project.root))
    assert up.code == 1
    failed = [line for line in up.out.splitlines() if line.startswith("failed: service api")]
    assert len(failed) == 1 and "/[admin]: " in failed[0], up.out
    warned = [line for line in up.out.splitlines() if line.startswith("warning: service opt")]
    # one line, as the failure: a host:port: in it once sent it to rich, which wrapped it at 160 columns
    assert len(warned) == 1 and "/[admin]: " in warned[0] and warned[0].endswith("(non-critical: continuing without it)"), up.out
    plan = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert "  LIST=[a] [/b] x\n" in plan.out, plan.out


def test_config_errors_exit_2(omnitron_project, omnitron_cli, http_server):
    project = omnitron_project.write(ext_eco(http_server))
    res = omnitron_cli("infra", "up", "--project", str(project.root), "--stack", "nope")
    assert res.code == 2
    assert "unknown stack 'nope'" in res.err
    project = omnitron_project.write({"infrastructure": {"services": {"s": {"ports": {"p": 9}, "docker": {"image": "i"}}}}, "stacks": {"dev": {"provider": "docker"}}})
    res = omnitron_cli("infra", "up", "--project", str(project.root))
    assert res.code == 2
    assert "pip install omnitron-provider-docker" in res.err


def test_status_json_has_the_infrastructure_state_shape(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    before = omnitron_cli("infra", "status", "--project", str(project.root), "--json").json()
    assert before["ready"] is False
    assert before["services"]["api"]["status"] == "not_found"
    assert omnitron_cli("infra", "up", "--project", str(project.root)).code == 0
    after = omnitron_cli("infra", "ps", "--project", str(project.root), "--json").json()
    assert set(after) == {"services", "ready", "lastReconciled", "allocations"}
    assert after["allocations"] == []
    api = after["services"]["api"]
    assert {"name", "image", "status", "containerId", "ports", "health", "startedAt", "error"} <= set(api)
    assert api["status"] == "running" and api["health"] == "healthy"
    assert after["ready"] is True and after["lastReconciled"]
    table = omnitron_cli("infra", "status", "--project", str(project.root))
    assert "api" in table.out and "running" in table.out and "ready" in table.out


def test_status_lists_each_allocation_with_its_owner_app(omnitron_project, omnitron_cli, register_plugin, procs):
    from _kv import ChoresPlugin

    register_plugin(ChoresPlugin(), name="chores")
    port = free_port()
    services = {"storage": {"preset": "chores"}, "api": http_service(port)}
    eco = {**proc_eco(services), "stacks": {"dev": {"provider": "process", "serviceOverrides": {"storage": {"external": {"host": "127.0.0.1", "ports": {"main": port}}}}}}}
    project = omnitron_project.write(eco, {"web": {"s3": True}, "jobs": {"s3": {"bucket": "queue"}}})
    up = omnitron_cli("infra", "up", "--project", str(project.root))
    assert up.code == 0 and "warning: service storage: bucket media is public" in up.out
    state = omnitron_cli("infra", "status", "--project", str(project.root), "--json").json()
    held = sorted((a["service"], a["kind"], a["name"], a["app"]) for a in state["allocations"])
    assert held == [("storage", "bucket", "queue", "jobs"), ("storage", "bucket", "web", "web")]
    assert state["services"]["storage"]["note"] == "server: Chores 1.0"
    table = omnitron_cli("infra", "status", "--project", str(project.root)).out
    assert "allocations" in table and "queue" in table and "jobs" in table and "server: Chores 1.0" in table


def test_down_and_down_volumes(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    omnitron_cli("infra", "up", "--project", str(project.root))
    res = omnitron_cli("infra", "down", "--project", str(project.root))
    assert res.code == 0 and "removed: api (data kept" in res.out
    assert procs.children == {} and procs.data_removed == []
    omnitron_cli("infra", "up", "--project", str(project.root))
    res = omnitron_cli("infra", "down", "--volumes", "--project", str(project.root), "--json")
    assert res.json()["removed"] == {"api": "process"} and res.json()["dataDeleted"] is True
    assert procs.data_removed == ["api"]


def test_logs_print_what_the_service_wrote(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    omnitron_cli("infra", "up", "--project", str(project.root))
    res = omnitron_cli("infra", "logs", "api", "-n", "1", "--project", str(project.root))
    assert res.code == 0
    assert res.out == "GET /healthz\n"
    res = omnitron_cli("infra", "logs", "nope", "--project", str(project.root))
    assert res.code == 2 and "no service named 'nope'" in res.err


# -- reset ---------------------------------------------------------------------------


def test_reset_without_yes_changes_nothing(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    assert omnitron_cli("infra", "up", "--project", str(project.root)).code == 0
    pid = next(iter(procs.children.values())).process.pid
    with StateStore(project.state_dir) as state:
        events = state.last_event("dev", "up")
    res = omnitron_cli("infra", "reset", "--project", str(project.root))
    assert res.code == 1
    assert "api (process): its data directory" in res.out
    assert "omnitron backup create" in res.out and "--yes" in res.out
    assert next(iter(procs.children.values())).process.pid == pid
    assert procs.starts == ["api"] and procs.data_removed == []
    with StateStore(project.state_dir) as state:
        assert state.last_event("dev", "down") is None
        assert state.last_event("dev", "up") == events


def test_reset_yes_deletes_data_and_provisions_again(omnitron_project, omnitron_cli, procs):
    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    omnitron_cli("infra", "up", "--project", str(project.root))
    res = omnitron_cli("infra", "reset", "--yes", "--project", str(project.root))
    assert res.code == 0, res.out + res.err
    assert procs.data_removed == ["api"]
    assert procs.starts == ["api", "api"]


@pytest.mark.parametrize("typed", ["shop/dev", "yes"])
def test_reset_on_a_terminal_asks_for_the_stacks_name(omnitron_project, omnitron_cli, procs, monkeypatch, typed):
    from omnitron.cli import infra_run

    project = omnitron_project.write(proc_eco({"api": http_service(free_port())}))
    omnitron_cli("infra", "up", "--project", str(project.root))
    asked: list[str] = []
    monkeypatch.setattr(infra_run, "_on_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or typed)
    res = omnitron_cli("infra", "reset", "--project", str(project.root))
    assert asked == ["Type shop/dev to delete it all (anything else keeps it): "]
    if typed == "shop/dev":
        assert res.code == 0, res.out + res.err
        assert procs.data_removed == ["api"]
    else:  # only the name itself deletes it
        assert res.code == 1 and "Nothing was changed" in res.out
        assert procs.data_removed == []


# -- env -------------------------------------------------------------------------------


def _secret_project(omnitron_project, port):
    tricky = ext_service(
        secrets={"token": {"secret": "api_token"}},
        env={"SVC_URL": "http://${host}:${port:http}/x", "TOKEN": "${secret:token}", "NOTE": "it's \"quoted\" $HOME and spaces"},
    )
    project = omnitron_project.write(ext_eco(port, api=tricky), {"web": {"services": {"api": True}}})
    backend_for(project).set("api_token", "tok'en $x")
    return project


def test_env_masks_secrets_unless_asked(omnitron_project, omnitron_cli, http_server):
    project = _secret_project(omnitron_project, http_server)
    masked = omnitron_cli("infra", "env", "web", "--format", "json", "--project", str(project.root)).json()
    assert masked == {"NOTE": "it's \"quoted\" $HOME and spaces", "PORT": "<pending>", "SVC_URL": f"http://127.0.0.1:{http_server}/x", "TOKEN": "****"}
    shown = omnitron_cli("infra", "env", "web", "--format", "json", "--show-secrets", "--project", str(project.root)).json()
    assert shown["TOKEN"] == "tok'en $x"


def test_env_shell_format_survives_a_real_shell(omnitron_project, omnitron_cli, http_server):
    project = _secret_project(omnitron_project, http_server)
    res = omnitron_cli("infra", "env", "web", "--format", "shell", "--show-secrets", "--project", str(project.root))
    assert res.out.startswith("export ")
    printed = subprocess.run(["bash", "-c", 'eval "$(cat)"; printf "%s|%s" "$TOKEN" "$NOTE"'], input=res.out, capture_output=True, text=True, check=True)
    assert printed.stdout == "tok'en $x|it's \"quoted\" $HOME and spaces"


def test_env_dotenv_format(omnitron_project, omnitron_cli, http_server):
    project = _secret_project(omnitron_project, http_server)
    res = omnitron_cli("infra", "env", "web", "--project", str(project.root))
    lines = res.out.splitlines()
    assert f"SVC_URL='http://127.0.0.1:{http_server}/x'" in lines
    assert "TOKEN='****'" in lines
    assert 'NOTE="it\'s \\"quoted\\" \\$HOME and spaces"' in lines
    assert omnitron_cli("infra", "env", "nope", "--project", str(project.root)).code == 2


# -- omnitron run and migrate --------------------------------------------------------------


def test_run_execs_the_command_with_the_env_and_its_exit_code(omnitron_project, http_server):
    project = _secret_project(omnitron_project, http_server)
    code = "import os, sys; print(os.getpid(), os.environ['SVC_URL'], os.environ['TOKEN']); sys.exit(7)"
    proc = subprocess.Popen([sys.executable, "-c", "from omnitron.cli import run; run()", "run", "web", "--project", str(project.root), "--", sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 7, err
    pid, url, token = out.rstrip("\n").split(" ", 2)
    assert int(pid) == proc.pid  # omnitron became the command: no wrapper process in between
    assert url == f"http://127.0.0.1:{http_server}/x"
    assert token == "tok'en $x"


def test_run_uses_the_apps_command_in_its_directory(omnitron_project, http_server):
    eco = ext_eco(http_server, apps=[{"name": "web", "command": [sys.executable, "-c", "import os; print(os.getcwd(), os.environ['SVC_URL'])"]}])
    project = omnitron_project.write(eco, {"web": {"services": {"api": True}}})
    res = omnitron("run", "web", "--project", str(project.root))
    assert res.returncode == 0, res.stderr
    cwd, url = res.stdout.split()
    assert Path(cwd) == project.root / "apps" / "web"
    assert url == f"http://127.0.0.1:{http_server}/x"


def test_run_fails_when_a_critical_service_never_becomes_healthy(omnitron_project):
    project = omnitron_project.write(ext_eco(free_port(), api=ext_service(startupTimeout="300ms")), {"web": {"services": {"api": True}}})
    res = omnitron("run", "web", "--project", str(project.root), "--", sys.executable, "-c", "print('started')")
    assert res.returncode == 1
    assert "started" not in res.stdout
    assert "service api did not become healthy" in res.stderr


def test_run_does_not_wait_for_non_critical_services(omnitron_project, http_server):
    """The app starts once its critical services are healthy: ``extra`` would take 10 minutes to time out (the command's own timeout is 2)."""
    services = {"api": ext_service(), "extra": ext_service(critical=False, startupTimeout="10m")}
    eco = ext_eco(http_server, **services)
    eco["stacks"]["dev"]["serviceOverrides"]["extra"] = {"external": {"host": "127.0.0.1", "ports": {"http": free_port()}}}
    project = omnitron_project.write(eco, {"web": {"services": {"api": True, "extra": True}}})
    res = omnitron("run", "web", "--project", str(project.root), "--", sys.executable, "-c", "print('started')")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "started\n"
    assert "service extra is not healthy yet: the app does not wait for it" in res.stderr and "non-critical" in res.stderr


def test_run_unknown_command_exits_127(omnitron_project, http_server):
    project = omnitron_project.write(ext_eco(http_server), {"web": {"services": {"api": True}}})
    res = omnitron("run", "web", "--project", str(project.root), "--", "no-such-command-here")
    assert res.returncode == 127
    assert "command not found: no-such-command-here" in res.stderr


def test_migrate_runs_the_declared_command_with_the_env(omnitron_project, omnitron_cli, http_server):
    migrate = [sys.executable, "-c", "import os; open('migrated', 'w').write(os.environ['SVC_URL'])"]
    project = omnitron_project.write(ext_eco(http_server), {"web": {"services": {"api": True}, "migrate": migrate}, "admin": {"services": {"api": True}}})
    res = omnitron_cli("infra", "migrate", "web", "--project", str(project.root))
    assert res.code == 0, res.err
    assert (project.root / "apps" / "web" / "migrated").read_text() == f"http://127.0.0.1:{http_server}/x"
    res = omnitron_cli("infra", "migrate", "admin", "--project", str(project.root))
    assert res.code == 2 and "declares no migrate command" in res.err
