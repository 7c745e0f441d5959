"""A third-party provider, built as a real distribution and installed, runs a service: no edit of the core.

``omnitron-hermit`` registers the provider ``hermit``: it runs a service's
``process.command`` as a detached process and remembers it in its
per-provider records (only ``omnitron.api`` is imported). A stack names it;
``infra up``, ``status``, ``run``, ``down`` and ``plan`` all go through the
real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omnitron.hostports import free_port
from test_third_party_plugin import _installer, _uninstaller

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "omnitron-hermit"
version = "0.2.0"
dependencies = []

[project.entry-points.omnitron]
hermit = "omnitron_hermit"

[tool.hatch.build.targets.wheel]
packages = ["src/omnitron_hermit"]
"""

PLUGIN = '''
"""The hermit provider: a service's process.command, detached, found again by its recorded pid."""

import os
import signal
import subprocess

from omnitron import hookimpl
from omnitron.api import ContainerState, ExecResult, Provider


class HermitProvider(Provider):
    name = "hermit"
    runs_from = "process"
    assigns_host_ports = True
    data_noun = "nothing (it keeps no data)"

    def _alive(self, pid):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"

    def _state(self, name, rec):
        running = self._alive(rec["pid"])
        return ContainerState(name=name, image="hermit", status="running" if running else "exited",
                              container_id=str(rec["pid"]), ports=rec["ports"], provider=self.name, spec_hash=rec["spec_hash"])

    async def ensure(self, spec):
        svc = spec.service
        rec = self.ctx.state.get_record(self.ctx.stack, self.name, svc.name)
        if rec and rec["spec_hash"] == svc.spec_hash and self._alive(rec["pid"]):
            return self._state(svc.name, rec)
        if rec:
            await self.stop(svc.name)
        proc = subprocess.Popen(spec.command or svc.process.command, env={**os.environ, **spec.env}, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rec = {"pid": proc.pid, "spec_hash": svc.spec_hash, "ports": dict(svc.ports)}
        self.ctx.state.put_record(self.ctx.stack, self.name, svc.name, rec)
        return self._state(svc.name, rec)

    async def list_managed(self):
        return {n: self._state(n, r) for n, r in self.ctx.state.records(self.ctx.stack, self.name).items()}

    async def stop(self, name):
        rec = self.ctx.state.get_record(self.ctx.stack, self.name, name)
        if rec and self._alive(rec["pid"]):
            os.killpg(rec["pid"], signal.SIGTERM)

    async def remove(self, name, *, volumes=False):
        self.ctx.state.delete_record(self.ctx.stack, self.name, name)

    async def logs(self, name, *, follow=False, tail=None):
        yield "hermit keeps no logs"

    async def exec(self, name, command, *, timeout=None, input=None):
        result = subprocess.run(command, input=input, capture_output=True, timeout=timeout)
        return ExecResult(result.returncode, (result.stdout + result.stderr).decode(errors="replace"))


@hookimpl
def omnitron_add_providers():
    return [HermitProvider]
'''

SERVER = "import http.server, sys; http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()"


@pytest.fixture
def hermit_installed(tmp_path):
    src = tmp_path / "omnitron-hermit"
    pkg = src / "src" / "omnitron_hermit"
    pkg.mkdir(parents=True)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    subprocess.run([*_installer(), str(src)], check=True, timeout=300)
    yield
    subprocess.run([*_uninstaller(), "omnitron-hermit"], check=True, timeout=120)


def omnitron(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNITRON_PLUGINS")}
    env.update(OMNITRON_PROJECT=str(project), OMNITRON_SECRET_KEY=os.urandom(32).hex(), OMNITRON_CONFIG_DIR=str(project / ".cfg"))
    return subprocess.run([str(Path(sys.executable).parent / "omnitron"), *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_provider_from_another_package_runs_a_service(hermit_installed, tmp_path):
    port = free_port()
    project = tmp_path / "proj"
    (project / "apps" / "web").mkdir(parents=True)
    service = {"ports": {"http": port}, "env": {"SVC_URL": "http://${host}:${port:http}/"}, "process": {"command": [sys.executable, "-c", SERVER, "${port:http}"]}}
    eco = {"project": "hermits", "apps": [{"name": "web"}], "infrastructure": {"services": {"files": service}}, "stacks": {"dev": {"provider": "hermit"}}}
    (project / "omnitron.toml").write_text(json_to_toml(eco))
    (project / "apps" / "web" / "config").mkdir(parents=True)
    (project / "apps" / "web" / "config" / "default.json").write_text(json.dumps({"omnitron": {"services": {"files": True}}}))

    planned = omnitron(project, "infra", "plan", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["services"][0]["provider"] == "hermit"
    try:
        up = omnitron(project, "infra", "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "files: ready" in up.stdout
        status = json.loads(omnitron(project, "infra", "status", "--json").stdout)
        files = status["services"]["files"]
        assert (files["provider"], files["status"], files["health"]) == ("hermit", "running", "healthy") and status["ready"] is True
        ran = omnitron(project, "run", "web", "--", sys.executable, "-c", "import os, urllib.request; print(urllib.request.urlopen(os.environ['SVC_URL']).status)")
        assert ran.returncode == 0 and ran.stdout.strip() == "200", ran.stderr
    finally:
        down = omnitron(project, "infra", "down")
    assert down.returncode == 0 and "removed: files" in down.stdout, down.stdout + down.stderr
    unknown = omnitron(project, "infra", "plan", "--provider", "nope")
    assert unknown.returncode == 2
    assert "unknown provider 'nope'" in unknown.stderr and "hermit" in unknown.stderr


def json_to_toml(data: dict) -> str:
    import tomli_w

    return tomli_w.dumps(data)
