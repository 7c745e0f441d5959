"""Service facts: what a preset's ``prepare`` records once its service runs, and how templates see it.

A small preset (``beacon``) runs a real HTTP server as a child process; its
``prepare`` reads a value from the running server (the port it answers on,
and a token it printed) and returns them as facts. A template function of
the same plugin renders a fact in any app's own env.
"""

from __future__ import annotations

import os
import sys

import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron import hookimpl
from omnitron.engine import app_env, down, up
from omnitron.engine.session import Session
from omnitron.errors import ConfigError
from omnitron.hostports import free_port
from omnitron.model import ProcessConfig, ServiceRequirement
from omnitron.presets import Preset, PresetConfig
from omnitron.state import StateStore
from omnitron.templating import PENDING, TemplateContext, TemplateFunction

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def secret_key(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(tmp_path_factory.mktemp("user-config")))


class BeaconConfig(PresetConfig):
    port: int


class BeaconPreset(Preset):
    name = "beacon"
    service_type = "daemon"
    config_model = BeaconConfig
    prepared: list[str] = []

    def expand(self, config, ctx):
        svc = http_service(config.port)
        return ServiceRequirement(type="daemon", ports=svc["ports"], health_check=svc["healthCheck"], process=ProcessConfig(command=svc["process"]["command"]))

    async def prepare(self, service):
        # a value only the running service knows: what it answers on its port
        result = await service.exec([sys.executable, "-c", f"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{service.port('http')}/healthz').read().decode())"])
        self.prepared.append(service.name)
        return {"answer": result.output.strip(), "port": service.port("http")}


class BeaconFunction(TemplateFunction):
    name = "beacon"
    takes_argument = True

    def render(self, arg, ctx: TemplateContext):
        services = [s.name for s in ctx.plan.services if s.preset == "beacon"] if ctx.plan else []
        if not services:
            raise LookupError("no beacon service in the plan")
        ctx.needs.add(services[0])
        return ctx.facts.get(services[0], {}).get(arg, PENDING)


class BeaconPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [BeaconPreset]

    @hookimpl
    def omnitron_add_template_functions(self):
        return [BeaconFunction]


@pytest.fixture
def beacon(register_plugin):
    register_plugin(ChildProcessPlugin(), name="child-process")
    register_plugin(BeaconPlugin(), name="beacon")
    yield
    ChildProcessProvider.stop_all()
    BeaconPreset.prepared.clear()


def project_with(factory, port, env=None, **app):
    eco = {"project": "facts", "infrastructure": {"services": {"lamp": {"preset": "beacon", "config": {"port": port}}}}, "stacks": {"dev": {"provider": "process"}}}
    return factory.write(eco, {"web": {"env": env or {"BEACON": "seen ${beacon:answer} on ${beacon:port}"}, **app}})


async def test_a_fact_is_pending_until_prepare_records_it_then_reaches_the_apps_own_env(omnitron_project, beacon):
    port = free_port()
    project = project_with(omnitron_project, port)
    plan = project.plan()
    # the app reads a fact of lamp: it uses lamp, so the gate (and `omnitron run`) bring lamp up first
    assert plan.apps["web"].services == ["lamp"]
    assert [s.name for s in plan.services_for("web")] == ["lamp"]
    async with Session(project, plan) as session:
        assert app_env(session, "web", reveal=False) == {"BEACON": f"seen {PENDING} on {PENDING}", "PORT": PENDING}
    await up(project, plan)
    assert BeaconPreset.prepared == ["lamp"]
    async with Session(project, plan) as session:
        allocated = session.state.app_ports(plan.stack)["web"]["http"]
        assert app_env(session, "web") == {"BEACON": f"seen ok on {port}", "PORT": str(allocated)}
        assert app_env(session, "web", reveal=False) == {"BEACON": f"seen ok on {port}", "PORT": str(allocated)}  # facts are not secrets


async def test_facts_survive_down_and_are_forgotten_with_the_data(omnitron_project, beacon):
    project = project_with(omnitron_project, free_port())
    plan = project.plan()
    await up(project, plan)
    await down(project, plan)
    with StateStore(project.state_dir) as state:
        assert state.facts("dev")["lamp"]["answer"] == "ok"
    await down(project, plan, volumes=True)
    with StateStore(project.state_dir) as state:
        assert state.facts("dev") == {}


def test_put_facts_replaces_what_was_recorded(tmp_path):
    with StateStore(tmp_path) as state:
        state.put_facts("dev", "tor", {"onion:a": "x.onion", "onion:b": "y.onion"})
        state.put_facts("dev", "tor", {"onion:a": "z.onion"})
        state.put_facts("test", "tor", {"onion:a": "other"})
        assert state.facts("dev") == {"tor": {"onion:a": "z.onion"}}


async def test_the_apps_own_env_wins_over_an_injected_value_and_names_its_field_on_error(omnitron_project, beacon):
    port = free_port()
    services = {"api": http_service(port)}
    eco = {"project": "facts", "infrastructure": {"services": services}, "stacks": {"dev": {"provider": "process"}}}
    project = omnitron_project.write(eco, {"web": {"services": {"api": True}, "ports": {"http": 8080}, "env": {"SVC_URL": "http://override", "SELF": "http://${host}:${port:http}"}}})
    async with Session(project, project.plan()) as session:
        # the app's own env sees the app's host and declared ports
        assert app_env(session, "web") == {"PORT": "8080", "SELF": "http://127.0.0.1:8080", "SVC_URL": "http://override"}
    bad = omnitron_project.write(eco, {"web": {"env": {"URL": "${nope:x}"}}})
    with pytest.raises(ConfigError, match=r"^apps/web/config/default.json: omnitron\.env\.URL: .*unknown template function \$\{nope\}"):
        bad.plan()


def test_declared_app_ports_reach_the_plan_and_the_ecosystem_entry_wins(omnitron_project):
    eco = {"project": "facts", "apps": [{"name": "web", "ports": {"admin": 9001}}, {"name": "api"}]}
    project = omnitron_project.write(eco, {"web": {"ports": {"http": 8080, "admin": 9000}}, "api": {}})
    plan = project.plan()
    assert plan.apps["web"].ports == {"http": 8080, "admin": 9001}
    assert plan.apps["api"].ports == {}
    with pytest.raises(ConfigError, match=r"omnitron\.ports\.http: port 70000 is out of range"):
        omnitron_project.write(eco, {"web": {"ports": {"http": 70000}}, "api": {}}).plan()
