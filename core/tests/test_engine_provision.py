"""The engine end to end with real processes: provisioning, the health gate, allocations, down, status.

Services run as real child processes (``ChildProcessProvider``) or are real
servers reached through the ``external`` provider.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import ClassVar

import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron import hookimpl
from omnitron.hostports import free_port
from omnitron.engine import app_env, down, status, up, wait_ready
from omnitron.engine.gate import HealthPolicy, checks_for
from omnitron.engine.monitor import HealthMonitor
from omnitron.engine.progress import Timeline
from omnitron.engine.session import Session
from omnitron.errors import ConfigError, PluginError, ProvisionError, StartupTimeout
from omnitron.secrets.resolve import backend_for
from omnitron.state import StateStore

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("omnitron_isolated")]


@pytest.fixture
def procs(register_plugin):
    register_plugin(ChildProcessPlugin(), name="child-process")
    yield ChildProcessProvider
    ChildProcessProvider.stop_all()


def eco(services: dict, *, provider: str = "process", overrides: dict | None = None, **stack) -> dict:
    return {"project": "shop", "infrastructure": {"services": services}, "stacks": {"dev": {"provider": provider, "serviceOverrides": overrides or {}, **stack}}}


def closed_port() -> int:
    """A port nothing listens on."""
    return free_port()


def external(port: int, host: str = "127.0.0.1") -> dict:
    return {"external": {"host": host, "ports": {"main": port}}}


def unreachable(*, critical: bool = True, timeout: str = "300ms") -> dict:
    return {"ports": {"main": 1}, "docker": {"image": "x"}, "critical": critical, "startupTimeout": timeout, "healthCheck": {"tcp": {"port": "main"}, "timeout": "200ms"}}


# -- provisioning --------------------------------------------------------------


async def test_up_starts_service_gates_on_health_and_renders_app_env(omnitron_project, procs):
    port = free_port()
    project = omnitron_project.write(eco({"api": http_service(port)}), {"web": {"services": {"api": True}}})
    plan = project.plan()
    result = await up(project, plan)
    assert result.ok
    assert result.services["api"].status == "ready"
    assert result.services["api"].state.status == "running"
    assert "200" in result.services["api"].probe
    assert procs.starts == ["api"]
    async with Session(project, plan) as session:
        env = app_env(session, "web")
        assert 10000 <= int(env.pop("PORT")) < 20000  # allocated by up: web declares no port
        assert env == {"SVC_URL": f"http://127.0.0.1:{port}"}


async def test_second_up_with_nothing_changed_changes_nothing(omnitron_project, procs):
    project = omnitron_project.write(eco({"api": http_service(free_port())}), {"web": {"services": {"api": True}}})
    await up(project, project.plan())
    pid = procs.children[next(iter(procs.children))].process.pid
    again = await up(project, project.plan())
    assert again.ok
    assert procs.starts == ["api"]
    assert procs.children[next(iter(procs.children))].process.pid == pid


async def test_changed_spec_recreates_the_service(omnitron_project, procs):
    port = free_port()
    project = omnitron_project.write(eco({"api": http_service(port)}))
    await up(project, project.plan())
    project = omnitron_project.write(eco({"api": {**http_service(port), "process": {**http_service(port)["process"], "env": {"X": "1"}}}}))
    await up(project, project.plan())
    assert procs.starts == ["api", "api"]


async def test_dependents_start_after_their_dependencies_are_healthy(omnitron_project, procs):
    services = {"base": http_service(free_port(), delay=0.3), "top": http_service(free_port(), dependsOn=["base"])}
    project = omnitron_project.write(eco(services))
    timeline = Timeline()
    await up(project, project.plan(), progress=timeline)
    order = [(e.service, e.phase) for e in timeline.events]
    assert order.index(("base", "ready")) < order.index(("top", "starting"))
    assert procs.starts == ["base", "top"]


async def test_independent_services_start_in_parallel(omnitron_project, procs):
    services = {"one": http_service(free_port(), delay=0.5), "two": http_service(free_port(), delay=0.5)}
    project = omnitron_project.write(eco(services))
    timeline = Timeline()
    await up(project, project.plan(), progress=timeline)
    order = [(e.service, e.phase) for e in timeline.events]
    # each started before the other became ready: they were provisioned side by side
    assert order.index(("two", "starting")) < order.index(("one", "ready"))
    assert order.index(("one", "starting")) < order.index(("two", "ready"))


async def test_providers_begin_their_shared_work_while_the_ports_are_checked(omnitron_project, procs):
    services = {"one": http_service(free_port()), "two": http_service(free_port())}
    project = omnitron_project.write(eco(services))
    result = await up(project, project.plan())
    assert result.ok
    # once per provider, with its services, before any started, beside the port check (not before it, not after)
    assert procs.begun == [{"services": ["one", "two"], "started": [], "ports_checked": True, "end": "done"}]


async def test_a_provider_that_cannot_begin_does_not_fail_the_up(omnitron_project, procs):
    procs.begin_fails = True
    project = omnitron_project.write(eco({"api": http_service(free_port())}))
    result = await up(project, project.plan())
    assert result.ok and procs.starts == ["api"]
    assert procs.begun[0]["end"] == "running"  # it raised: the error stayed with it


async def test_a_failed_port_check_cancels_what_the_providers_began(omnitron_project, procs):
    procs.begin_blocks = True
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        project = omnitron_project.write(eco({"api": http_service(taken.getsockname()[1])}))
        with pytest.raises(ProvisionError, match="host port collision"):  # the error itself, not a group of them
            await up(project, project.plan())
    assert procs.begun[0]["end"] == "cancelled"
    assert procs.starts == []


class OtherChildProvider(ChildProcessProvider):
    """The same child processes under another name: a stack brought up with one ``--provider``, then planned with another."""

    name = "other"
    children: ClassVar[dict] = {}
    starts: ClassVar[list[str]] = []


class OtherChildPlugin:
    @hookimpl
    def omnitron_add_providers(self):
        return [OtherChildProvider]


async def test_ports_held_by_the_stacks_own_services_of_another_provider_say_which_provider(omnitron_project, procs, register_plugin):
    register_plugin(OtherChildPlugin(), name="other-child")
    port = free_port()
    first = omnitron_project.write(eco({"api": http_service(port)}))
    assert (await up(first, first.plan())).ok  # with the process provider
    again = omnitron_project.write(eco({"api": http_service(port)}, provider="other"))
    try:
        with pytest.raises(ProvisionError) as err:
            await up(again, again.plan())
    finally:
        OtherChildProvider.stop_all()
    message = str(err.value)
    assert message.startswith("host port collision: ") and f"port {port} (http) of service api is taken" in message
    assert "Fix: api already runs with the process provider (the plan says other): pass --provider process, or `omnitron infra down` first; or set portOffsets" in message
    assert OtherChildProvider.starts == []


async def test_critical_service_never_healthy_fails_after_startup_timeout(omnitron_project):
    port = closed_port()
    project = omnitron_project.write(eco({"db": unreachable()}, overrides={"db": external(port)}))
    with pytest.raises(ProvisionError) as err:
        await up(project, project.plan())
    message = str(err.value)
    assert "service db did not become healthy within its startupTimeout of 0.3s" in message
    assert f"last probe: tcp 127.0.0.1:{port}" in message
    assert "omnitron infra logs db" in message


class SlowStartProvider(ChildProcessProvider):
    """Waits out the service's startupTimeout inside ``ensure`` and fails in its own words, as the process provider does."""

    async def ensure(self, spec):
        import anyio

        await anyio.sleep(spec.service.startup_timeout_ms / 1000)
        raise StartupTimeout(f"service {spec.service.name}: not listening after {spec.service.startup_timeout_ms / 1000:g}s")


class SlowStartPlugin:
    @hookimpl
    def omnitron_add_providers(self):
        return [SlowStartProvider]


class LateRefusalProvider(ChildProcessProvider):
    """Takes longer than the service's startupTimeout (a slow image pull, say), then fails for a reason that is no timeout."""

    async def ensure(self, spec):
        import anyio

        await anyio.sleep(spec.service.startup_timeout_ms / 1000 * 1.2)
        raise ProvisionError(f"service {spec.service.name}: image example/api:1 not found")


class LateRefusalPlugin:
    @hookimpl
    def omnitron_add_providers(self):
        return [LateRefusalProvider]


async def _failed_up_of_api_with_a_short_startup_timeout(omnitron_project) -> str:
    """The message of the error an ``up`` of one service ``api`` (startupTimeout 300ms) ends with."""
    project = omnitron_project.write(eco({"api": {**http_service(free_port()), "startupTimeout": "300ms"}}))
    with pytest.raises(ProvisionError) as err:
        await up(project, project.plan())
    return str(err.value)


async def test_a_provider_that_waits_out_the_startup_timeout_names_status_and_startup_timeout(omnitron_project, register_plugin):
    register_plugin(SlowStartPlugin(), name="slow-start")
    message = await _failed_up_of_api_with_a_short_startup_timeout(omnitron_project)
    assert "service api: not listening after 0.3s" in message
    assert "`omnitron infra status --stack dev`" in message
    assert "raise startupTimeout (now 0.3s) of service api" in message
    assert message.count("startupTimeout") == 1


async def test_a_provider_failing_late_for_another_reason_gets_no_startup_timeout_hint(omnitron_project, register_plugin):
    """Only a :class:`StartupTimeout` is worded as one: an error that merely came after a long time is reported as it is."""
    register_plugin(LateRefusalPlugin(), name="late-refusal")
    message = await _failed_up_of_api_with_a_short_startup_timeout(omnitron_project)
    assert "service api: image example/api:1 not found" in message
    assert "startupTimeout" not in message and "infra status" not in message, message


async def test_a_service_that_dies_fails_at_once_not_after_its_timeout(omnitron_project, procs):
    svc = {**http_service(free_port()), "startupTimeout": "10m"}
    svc["process"] = {"command": [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"]}
    project = omnitron_project.write(eco({"api": svc}))
    with pytest.raises(ProvisionError) as err:
        await up(project, project.plan())
    assert "service api stopped while waiting to become healthy (the process provider reports it exited)" in str(err.value)
    assert "omnitron infra logs api" in str(err.value)


async def test_non_critical_failure_does_not_block(omnitron_project, procs):
    port = free_port()
    services = {"api": http_service(port), "extra": unreachable(critical=False)}
    project = omnitron_project.write(eco(services, overrides={"extra": external(closed_port())}), {"web": {"services": {"api": True, "extra": True}}})
    result = await up(project, project.plan())
    assert result.ok
    assert result.services["api"].status == "ready"
    assert result.services["extra"].status == "degraded"
    assert any("extra" in w and "non-critical" in w for w in result.warnings)
    gate = await wait_ready(project, project.plan(), "web")
    assert any("extra" in w for w in gate.warnings)


async def test_dependent_of_a_failed_service_fails_without_starting(omnitron_project, procs):
    services = {"db": unreachable(), "api": http_service(free_port(), dependsOn=["db"])}
    project = omnitron_project.write(eco(services, overrides={"db": external(closed_port())}))
    result = await up(project, project.plan(), check=False)
    assert not result.ok
    assert result.services["api"].status == "failed"
    assert "waits for db" in result.services["api"].error
    assert procs.starts == []
    assert result.error_message().startswith("service db did not become healthy")
    assert "waits for" not in result.error_message()


async def test_up_waits_for_another_command_holding_the_project_lock(omnitron_project, procs):
    import threading

    from omnitron.state import project_lock

    project = omnitron_project.write(eco({"api": http_service(free_port())}))
    held, release = threading.Event(), threading.Event()

    def other_command() -> None:
        with project_lock(project.state_dir):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_command)
    thread.start()
    held.wait(10)
    timeline = Timeline(lambda event, tl: release.set() if event.service == "lock" else None)
    result = await up(project, project.plan(), progress=timeline)
    thread.join()
    assert result.ok
    lock_events = [(e.phase, e.detail) for e in timeline.events if e.service == "lock"]
    assert lock_events[0][0] == "pending" and "another omnitron command holds the project lock" in lock_events[0][1]
    assert lock_events[-1] == ("ready", "acquired")


async def test_port_taken_by_another_program_fails_before_anything_starts(omnitron_project, procs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        services = {"api": http_service(port), "other": http_service(free_port())}
        project = omnitron_project.write(eco(services))
        with pytest.raises(ProvisionError) as err:
            await up(project, project.plan())
    assert f"port {port}" in str(err.value)
    assert "service api" in str(err.value)
    assert "portOffsets" in str(err.value)
    assert procs.starts == []


async def test_missing_provider_names_the_package_to_install(omnitron_project):
    project = omnitron_project.write(eco({"search": {"ports": {"http": 9200}, "docker": {"image": "search:1"}}}, provider="docker"))
    with pytest.raises(PluginError, match=r"service search runs with the docker provider, which is not installed: pip install omnitron-provider-docker"):
        await up(project, project.plan())


async def test_command_probe_runs_where_the_service_runs(omnitron_project, procs):
    port = free_port()
    probe = [sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"]
    svc = {**http_service(port), "healthCheck": {"command": {"exec": probe}, "timeout": "2s"}}
    project = omnitron_project.write(eco({"api": svc}))
    result = await up(project, project.plan())
    assert result.services["api"].status == "ready"
    assert "exit 0" in result.services["api"].probe


async def test_command_probe_on_an_external_service_fails_planning_naming_the_field(omnitron_project):
    svc = {"ports": {"main": 1}, "docker": {"image": "x"}, "startupTimeout": "1m", "healthCheck": {"command": {"exec": ["true"]}}}
    project = omnitron_project.write(eco({"ext": svc}, overrides={"ext": external(closed_port())}))
    with pytest.raises(ConfigError) as err:  # at once, not after its startupTimeout
        project.plan()
    assert "infrastructure.services.ext.healthCheck.command" in str(err.value)
    assert "provider external connects to a server omnitron does not run ('true' cannot run there)" in str(err.value)


async def test_runtime_templates_are_rendered_with_real_secrets(omnitron_project, procs, tmp_path):
    port = free_port()
    dump = tmp_path / "token-seen"
    svc = http_service(port, secrets={"token": {"secret": "api_token"}})
    svc["process"]["env"] = {"TOKEN": "${secret:token}", "ENV_DUMP": str(dump)}
    project = omnitron_project.write(eco({"api": svc}))
    backend_for(project).set("api_token", "s3cr3t value/with:chars")
    await up(project, project.plan())
    assert dump.read_text() == "s3cr3t value/with:chars"


async def test_generated_credentials_and_allocations_are_recorded(omnitron_project, kv, procs):
    port = free_port()
    services = {"kv": {"preset": "kv", "config": {"port": port}}, "api": http_service(port)}
    project = omnitron_project.write(
        eco(services, overrides={"kv": external(port)}),
        {"web": {"redis": True}, "admin": {"redis": True}},
    )
    plan = project.plan()
    result = await up(project, plan)
    token = backend_for(project).get("shop/dev/kv/token")
    assert token is not None and len(token) == 16
    assert result.services["kv"].allocations == {"web": {"db": "?"}, "admin": {"db": "?"}}
    with StateStore(project.state_dir) as state:
        rows = state.allocations("dev")
    assert {(r["app"], r["kind"], r["name"]) for r in rows} == {("web", "kv_db", "web"), ("admin", "kv_db", "admin")}
    async with Session(project, plan) as session:
        assert app_env(session, "web")["KV_URL"] == f"kv://:{token}@127.0.0.1:{port}/%3F"
        assert app_env(session, "web", reveal=False)["KV_URL"] == f"kv://:****@127.0.0.1:{port}/%3F"
    await up(project, project.plan())
    assert backend_for(project).get("shop/dev/kv/token") == token


async def test_apps_get_credentials_of_their_own(omnitron_project, register_plugin, procs):
    from _kv import AccountsPlugin, AccountsPreset

    register_plugin(AccountsPlugin(), name="accounts")
    AccountsPreset.seen.clear()
    port = free_port()
    services = {"db": {"preset": "accounts"}, "api": http_service(port)}
    project = omnitron_project.write(
        eco(services, overrides={"db": external(port)}),
        {"web": {"database": {"dialect": "acct"}}, "admin": {"database": {"dialect": "acct"}}},
    )
    plan = project.plan()
    assert [g.key for g in plan.apps["web"].generated] == ["shop/dev/db/apps/web/password"]
    assert plan.apps["web"].allocations[0].secrets == {"password": "shop/dev/db/apps/web/password"}
    await up(project, plan)
    backend = backend_for(project)
    web, admin = backend.get("shop/dev/db/apps/web/password"), backend.get("shop/dev/db/apps/admin/password")
    assert web and admin and web != admin and len(web) == 20 and int(web, 16) >= 0
    # the service's own credential is another secret again
    assert backend.get("shop/dev/db/password") not in (web, admin)
    assert sorted(AccountsPreset.seen) == sorted([("web", web), ("admin", admin)])
    async with Session(project, plan) as session:
        assert app_env(session, "web")["ACCT_URL"] == f"acct://web:{web}@127.0.0.1:{port}/web"
        assert app_env(session, "admin")["ACCT_URL"] == f"acct://admin:{admin}@127.0.0.1:{port}/admin"
        assert app_env(session, "web", reveal=False)["ACCT_URL"] == f"acct://web:****@127.0.0.1:{port}/web"
    await up(project, project.plan())
    assert backend.get("shop/dev/db/apps/web/password") == web
    assert web not in project.plan().model_dump_json()


def meeting_project(omnitron_project, register_plugin, apps: tuple[str, ...]):
    """Apps each with a database on a ``meeting`` service (see ``_kv.MeetingPreset``), reached as an external server."""
    from _kv import MeetingPlugin, MeetingPreset

    register_plugin(MeetingPlugin(), name="meeting")
    port = free_port()
    services = {"db": {"preset": "meeting"}, "api": http_service(port)}
    MeetingPreset.begun, MeetingPreset.expected = [], len(apps)
    return omnitron_project.write(eco(services, overrides={"db": external(port)}), {name: {"database": {"dialect": "meet"}} for name in apps})


async def test_a_preset_that_allows_it_gets_its_allocations_made_at_once(omnitron_project, register_plugin, procs):
    """Each allocation waits until all have begun: ``up`` completes only if it makes them concurrently."""
    from _kv import MeetingPreset

    project = meeting_project(omnitron_project, register_plugin, ("web", "admin", "jobs"))
    result = await up(project, project.plan())
    assert sorted(MeetingPreset.begun) == ["admin", "jobs", "web"]
    assert result.services["db"].allocations == {app: {"database": f"{app}_db"} for app in project.plan().apps}
    with StateStore(project.state_dir) as state:
        assert sorted(r["app"] for r in state.allocations("dev")) == ["admin", "jobs", "web"]


async def test_an_app_gets_the_allocation_it_declares_now_not_one_recorded_under_an_earlier_name(omnitron_project, register_plugin, procs):
    """A database the app was given before its ``name`` changed stays recorded (its data is kept), but the app's env
    (``run``, ``infra env``, ``infra plan``) names the one its request names now, whatever the names' order."""
    from omnitron.env import render_plan_env

    project = meeting_project(omnitron_project, register_plugin, ("web",))
    plan = project.plan()
    await up(project, plan)
    with StateStore(project.state_dir) as state:
        state.put_allocation("dev", "db", "web", "database", "zz_before_rename", {"database": "zz_before_rename"})
    async with Session(project, plan) as session:
        assert app_env(session, "web")["MEET_DB"] == "web_db"
    assert render_plan_env(project, plan)["web"]["MEET_DB"] == "web_db"


async def test_a_failed_concurrent_allocation_fails_the_service_and_the_others_are_kept(omnitron_project, register_plugin, procs):
    project = meeting_project(omnitron_project, register_plugin, ("web", "broken", "jobs"))
    with pytest.raises(ProvisionError, match="service db: cannot make database broken$"):
        await up(project, project.plan())
    with StateStore(project.state_dir) as state:
        assert sorted(r["app"] for r in state.allocations("dev")) == ["jobs", "web"]


async def test_presets_warn_chores_run_after_allocations_and_probes_note_the_server(omnitron_project, register_plugin, procs):
    from _kv import ChoresPlugin, ChoresPreset

    register_plugin(ChoresPlugin(), name="chores")
    ChoresPreset.calls.clear()
    port = free_port()
    services = {"storage": {"preset": "chores"}, "api": http_service(port)}
    project = omnitron_project.write(eco(services, overrides={"storage": external(port)}), {"web": {"s3": True}, "jobs": {"s3": {"bucket": "queue"}}})
    result = await up(project, project.plan())
    assert ChoresPreset.calls[0] == "prepare" and ChoresPreset.calls[-1] == "maintain"
    assert sorted(ChoresPreset.calls[1:-1]) == ["allocate queue", "allocate web"]
    assert result.warnings == ["service storage: bucket media is public"]
    assert result.as_dict()["warnings"] == result.warnings
    state = await status(project, project.plan())
    assert state.services["storage"].note == "server: Chores 1.0"
    assert state.services["api"].note is None


async def test_the_runtime_spec_carries_the_recipe_the_preset_chooses_for_each_service(omnitron_project, register_plugin, procs):
    from _kv import ServersPlugin
    from omnitron.engine.render import runtime_spec

    register_plugin(ServersPlugin(), name="servers")
    project = omnitron_project.write(eco({"fast": {"preset": "servers", "config": {"server": "fast", "port": 7401}}, "plain": {"preset": "servers"}}))
    plan = project.plan()
    async with Session(project, plan) as session:
        chosen = {svc.name: runtime_spec(session, svc).recipe.server for svc in plan.services}
    assert chosen == {"fast": "fast", "plain": "auto"}


# -- the gate and health ------------------------------------------------------


async def test_wait_ready_is_the_gate_for_one_app(omnitron_project, procs):
    port = free_port()
    services = {"api": http_service(port), "db": unreachable()}
    project = omnitron_project.write(eco(services, overrides={"db": external(closed_port())}), {"web": {"services": {"api": True}}, "admin": {"services": {"db": True}}})
    plan = project.plan()
    await up(project, plan, services=["api"])
    gate = await wait_ready(project, plan, "web")
    assert gate.services["api"].result.ok
    with pytest.raises(ProvisionError, match="service db did not become healthy"):
        await wait_ready(project, plan, "admin")
    with pytest.raises(ConfigError, match="no app named 'nope'"):
        await wait_ready(project, plan, "nope")


async def test_gate_waits_for_a_slow_service(omnitron_project, procs):
    project = omnitron_project.write(eco({"slow": http_service(free_port(), delay=1.0)}))
    result = await up(project, project.plan())
    assert result.services["slow"].status == "ready"


async def test_health_monitor_counts_consecutive_failures(omnitron_project):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        svc = {"ports": {"main": 1}, "docker": {"image": "x"}, "healthCheck": {"tcp": {"port": "main"}, "retries": 2, "timeout": "500ms", "interval": "10ms"}}
        project = omnitron_project.write(eco({"ext": svc}, overrides={"ext": external(port)}))
        plan = project.plan()
        async with Session(project, plan) as session:
            target = plan.service("ext")
            monitor = HealthMonitor(session.handle(target, await session.provider("external")), checks_for(target, session.plugins.probes), HealthPolicy.of(target))
            assert await monitor.observe() is True
            listener.close()
            assert [await monitor.observe() for _ in range(3)] == [True, True, False]
            assert "ext" not in monitor.last.detail and str(port) in monitor.last.detail


# -- down and status --------------------------------------------------------------


async def test_down_stops_everything_and_volumes_forget_allocations(omnitron_project, kv, procs):
    port = free_port()
    services = {"api": http_service(port), "kv": {"preset": "kv", "config": {"port": port}}}
    project = omnitron_project.write(eco(services, overrides={"kv": external(port)}), {"web": {"redis": True}})
    plan = project.plan()
    await up(project, plan)
    result = await down(project, plan)
    assert result.removed == {"api": "process"}
    assert result.untouched == ["kv"]
    assert procs.children == {}
    with StateStore(project.state_dir) as state:
        assert state.allocations("dev") != []
    await up(project, plan)
    result = await down(project, plan, volumes=True)
    assert procs.data_removed == ["api"]
    assert "api" in result.forgotten
    assert "kv" not in result.forgotten


async def test_status_reports_state_health_and_readiness(omnitron_project, procs):
    port = free_port()
    services = {"api": http_service(port), "gone": unreachable(critical=False)}
    project = omnitron_project.write(eco(services, overrides={"gone": external(closed_port())}))
    plan = project.plan()
    before = await status(project, plan)
    assert before.services["api"].status == "not_found"
    assert before.ready is False
    assert before.last_reconciled is None
    await up(project, plan)
    after = await status(project, plan)
    assert after.services["api"].status == "running"
    assert after.services["api"].health == "healthy"
    assert after.services["gone"].status == "not_found"
    assert after.ready is True
    assert after.last_reconciled is not None
