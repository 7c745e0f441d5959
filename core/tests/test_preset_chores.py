"""Presets' hooks around a running service: ``materialise`` before it starts, ``maintain`` after it is prepared,
config they reload (a digest apart from the spec hash), and services using other services through shorthands.

A small preset (``lamp``) runs a real HTTP server as a child process; it writes a file before the start, and
its chore records that it ran. A second one (``lantern``) asks for the ``redis`` shorthand the way an app does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from _kv import KVPreset
from omnitron import hookimpl
from omnitron.engine import app_env, down, up
from omnitron.engine.maintenance import applied_config
from omnitron.engine.session import Session
from omnitron.hostports import free_port
from omnitron.model import HealthCheck, ProcessConfig, ServiceRequirement
from omnitron.presets import Preset, PresetConfig

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("omnitron_isolated")]


class LampConfig(PresetConfig):
    port: int
    conf: str = "./conf"


class LampPreset(Preset):
    name = "lamp"
    service_type = "daemon"
    config_model = LampConfig
    calls: list[tuple[str, str]] = []

    def expand(self, config, ctx):
        svc = http_service(config.port)
        return ServiceRequirement(type="daemon", ports=svc["ports"], health_check=svc["healthCheck"],
                                  process=ProcessConfig(command=svc["process"]["command"], options={"conf": os.path.join(ctx.project_dir, config.conf)}))

    def watched_paths(self, service):
        return [Path(service.process.options["conf"]), Path(service.files_dir)]

    async def materialise(self, service):
        Path(service.service.files_dir).mkdir(parents=True, exist_ok=True)
        (Path(service.service.files_dir) / "generated.conf").write_text("made before the start")
        self.calls.append(("materialise", service.name))

    async def maintain(self, service):
        self.calls.append(("maintain", service.name))


class LanternPreset(LampPreset):
    """Uses the ``redis`` shorthand itself (served by the ``kv`` test preset), and dumps its env when it starts."""

    name = "lantern"

    def expand(self, config, ctx):
        req = super().expand(config, ctx)
        req.process.env = {"ENV_JSON": os.path.join(ctx.files_dir, "env.json")}
        req.process.command = [sys.executable, "-c", "import json, os, sys; json.dump(dict(os.environ), open(os.environ['ENV_JSON'], 'w')); exec(sys.argv.pop(1))", *req.process.command[2:]]
        return req

    def shorthands(self, config):
        return {"redis": True}


class ProcessKV(KVPreset):
    """The ``kv`` test preset (the ``redis`` shorthand) as a real HTTP server in a child process."""

    name = "pkv"

    def expand(self, config, ctx):
        req = super().expand(config, ctx)
        svc = http_service(config.port)
        health = HealthCheck.model_validate({"http": {"path": "/healthz", "port": "main"}, "timeout": "2s"})
        command = [arg.replace("${port:http}", "${port:main}") for arg in svc["process"]["command"]]
        return req.model_copy(update={"process": ProcessConfig(command=command), "health_check": health})


class Plugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [LampPreset, LanternPreset, ProcessKV]


@pytest.fixture
def lamps(register_plugin):
    register_plugin(ChildProcessPlugin(), name="child-process")
    register_plugin(Plugin(), name="lamps")
    LampPreset.calls.clear()
    yield
    ChildProcessProvider.stop_all()


def eco(services, **stack):
    return {"project": "chores", "infrastructure": {"services": services}, "stacks": {"dev": {"provider": "process", **stack}}}


async def test_materialise_runs_before_the_start_and_maintain_after_the_allocations(omnitron_project, lamps):
    project = omnitron_project.write(eco({"lamp": {"preset": "lamp", "config": {"port": free_port()}}}), {"web": {"services": {"lamp": True}}})
    plan = project.plan()
    svc = plan.service("lamp")
    assert svc.files_dir == str(project.files_dir("dev", "lamp"))
    assert svc.reload_paths == [str(project.root / "conf")]  # watched, its files directory aside
    result = await up(project, plan)
    assert result.ok, result.error_message()
    assert LampPreset.calls == [("materialise", "lamp"), ("maintain", "lamp")]
    assert (Path(svc.files_dir) / "generated.conf").read_text() == "made before the start"
    async with Session(project, plan) as session:
        assert applied_config(session, "lamp") == svc.config_digest != ""
    await down(project, plan, volumes=True)
    assert not Path(svc.files_dir).exists()


async def test_a_reloaded_config_changes_the_config_digest_and_not_the_spec_hash(omnitron_project, lamps):
    project = omnitron_project.write(eco({"lamp": {"preset": "lamp", "config": {"port": free_port()}}}), {})
    conf = project.root / "conf"
    conf.mkdir()
    (conf / "a.conf").write_text("one")
    first = project.plan().service("lamp")
    (conf / "a.conf").write_text("two")
    second = project.plan().service("lamp")
    assert (second.spec_hash, second.config_digest != first.config_digest) == (first.spec_hash, True)
    await up(project, project.plan())
    (conf / "a.conf").write_text("three")
    plan = project.plan()
    await up(project, plan)
    assert ChildProcessProvider.starts == ["lamp"]  # applied by the chore, never recreated
    async with Session(project, plan) as session:
        assert applied_config(session, "lamp") == plan.service("lamp").config_digest
        assert "lamp: config" in [e for e in _events(session, "reload")][0]


def _events(session, action):
    rows = session.state._conn.execute("SELECT detail FROM events WHERE action=? ORDER BY ts", (action,))
    return [r[0] for r in rows]


async def test_a_service_using_a_shorthand_gets_its_own_allocation_before_it_starts(omnitron_project, lamps):
    services = {"kv": {"preset": "pkv", "config": {"port": free_port()}}, "lantern": {"preset": "lantern", "config": {"port": free_port()}}}
    project = omnitron_project.write(eco(services), {"web": {"redis": True}})
    plan = project.plan()
    lantern = plan.service("lantern")
    assert lantern.depends_on == ["kv"] and lantern.env_from["KV_URL"].service == "kv"
    assert [(a.app, a.service, a.name) for a in lantern.allocations] == [("service:lantern", "kv", "service:lantern")]
    result = await up(project, plan, services=["lantern"], apps=[])
    assert result.ok, result.error_message()
    assert result.services["kv"].allocations == {"service:lantern": {"db": "?"}}  # made when kv came up, before lantern
    dumped = json.loads((Path(lantern.files_dir) / "env.json").read_text())
    kv = plan.service("kv")
    async with Session(project, plan) as session:
        token = session.resolver(kv.secrets["token"])
        assert dumped["KV_URL"] == f"kv://:{token}@127.0.0.1:{kv.ports['main']}/%3F"
        assert session.allocations_for("service:lantern") == {"kv": {"db": "?"}}
        assert "web" not in session.allocations_for("web")  # the app's is its own, made when it is up


async def test_ports_are_allocated_for_apps_that_declare_none_stable_and_never_twice(omnitron_project, lamps):
    project = omnitron_project.write(eco({}, portOffsets=0), {"web": {}, "worker": {}, "api": {"ports": {"http": 18123}}})
    plan = project.plan()
    assert plan.apps["web"].allocated_port == "http" and plan.apps["api"].allocated_port is None
    await up(project, plan)
    async with Session(project, plan) as session:
        ports = session.state.app_ports("dev")
        assert set(ports) == {"web", "worker"} and ports["web"]["http"] != ports["worker"]["http"]
        assert all(10000 <= p["http"] < 20000 for p in ports.values())
        assert app_env(session, "web")["PORT"] == str(ports["web"]["http"]) and app_env(session, "api")["PORT"] == "18123"
    await up(project, plan)
    async with Session(project, plan) as session:
        assert session.state.app_ports("dev") == ports  # stable


def test_an_allocated_port_avoids_the_plans_ports_other_stacks_and_ports_in_use(tmp_path):
    import socket

    from omnitron.state import StateStore

    with StateStore(tmp_path) as state:
        state.allocate_app_port("test", "web", "http", candidates=iter([12000]), avoid=set(), is_free=lambda p: True)
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        from omnitron.hostports import is_listening

        port = state.allocate_app_port("dev", "web", "http", candidates=iter([12000, 12001, taken, 12002]), avoid={12001}, is_free=lambda p: not is_listening(p))
        busy.close()
        assert port == 12002  # 12000: the test stack's web; 12001: the plan's; `taken`: in use
        assert state.allocate_app_port("dev", "web", "http", candidates=iter([]), avoid=set(), is_free=lambda p: False) == 12002
        assert state.record_app_endpoints("dev", "web", {"http": ("127.0.0.1", 12002)}, source="expected") is True
        assert state.record_app_endpoints("dev", "web", {"http": ("127.0.0.1", 12002)}, source="observed", pid=1) is False
        assert state.app_endpoints("dev")["web"]["http"].source == "observed"
