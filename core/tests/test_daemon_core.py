"""The daemon's parts with the core alone: the fast path's parsing, the wire client, backoff, the state it keeps,
one reconcile pass over real child processes, presets' chores, and a watched path.

Services are real child processes (``ChildProcessProvider``); the wire client
talks to a real aiohttp server on a unix socket.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import anyio
import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron.daemon import wire
from omnitron.daemon.backoff import BackoffPolicy, ServiceWatch
from omnitron.daemon.chores import PathWatcher, affected
from omnitron.fastargs import parse, parse_up
from omnitron.daemon.keeper import StackKeeper
from omnitron.daemon.reconcile import run_pass
from omnitron.digests import env_fingerprint
from omnitron.hostports import free_port
from omnitron.presets import Preset
from omnitron.state import StateStore
from omnitron.state.lock import project_lock
from omnitron.usecases import bring_up, load_stack

pytestmark = pytest.mark.usefixtures("omnitron_isolated")


@pytest.mark.parametrize("argv,expected", [
    (["infra", "up"], ("up", {})),
    (["infra", "up", "-p", "/x", "--stack=test"], ("up", {"project": "/x", "stack": "test"})),
    (["infra", "status", "--json"], ("status", {"json": True})),
    (["infra", "ps", "--json", "-s", "dev"], ("status", {"json": True, "stack": "dev"})),
    (["run", "web", "--", "python", "-V"], ("run", {"app": "web", "command": ["python", "-V"]})),
    (["infra", "up", "--json"], None), (["infra", "status"], None), (["infra", "up", "--provider", "process"], None),
    (["run", "web", "extra"], None), (["infra", "up", "--project"], None), (["--help"], None), (["infra", "logs", "db"], None),
    (["run", "--stack", "dev", "web"], ("run", {"app": "web", "stack": "dev"})),
    (["--project", "/x", "infra", "up"], None), (["infra", "-p", "/x", "up"], None), (["--json", "infra", "status"], None), (["-s", "dev", "run", "web"], None),
])
def test_the_fast_path_takes_only_the_commands_it_can_answer(argv, expected):
    assert parse(argv) == expected


UP = {"project": None, "stack": None, "provider": None, "as_json": False, "no_daemon": False}


@pytest.mark.parametrize("argv,expected", [
    (["infra", "up"], UP),
    (["infra", "up", "--provider=process", "--json", "-p", "/x", "--no-daemon", "-s", "dev"], {"project": "/x", "stack": "dev", "provider": "process", "as_json": True, "no_daemon": True}),
    (["infra", "up", "--provider"], None), (["infra", "up", "--provider", "--json"], None), (["infra", "up", "--stack="], None),
    (["infra", "up", "--json", "--json"], None), (["infra", "up", "-s", "a", "--stack", "b"], None), (["infra", "up", "--help"], None),
    (["infra", "up", "-h"], None), (["infra", "up", "extra"], None), (["infra", "up", "--", "x"], None), (["infra", "up", "--json=true"], None),
    (["--project", "/x", "infra", "up"], None), (["infra", "--json", "up"], None), (["infra", "status"], None),
])
def test_up_spelt_plainly_is_read_without_the_command_line_parser(argv, expected):
    assert parse_up(argv) == expected


def test_the_environment_fingerprint_covers_what_changes_a_plan():
    base = {"OMNITRON_SECRET_KEY": "a", "PATH": "/bin", "OMNITRON_PROJECT": "/p", "HOME": "/root"}
    assert env_fingerprint(base) == env_fingerprint({**base, "PATH": "/usr/bin", "OMNITRON_PROJECT": "/q", "OMNITRON_DAEMON": "on"})
    assert env_fingerprint(base) != env_fingerprint({**base, "OMNITRON_SECRET_KEY": "b"})
    assert env_fingerprint(base) != env_fingerprint({**base, "OMNITRON_NETWORK_MODE": "testnet"})
    assert "a" not in env_fingerprint(base)


def test_backoff_doubles_up_to_its_cap_and_is_forgiven_after_staying_healthy():
    policy = BackoffPolicy(initial=30, cap=900)
    watch = ServiceWatch()
    assert [watch.failed(0, policy) for _ in range(7)] == [30, 60, 120, 240, 480, 900, 900]
    assert watch.waiting(100) and not watch.waiting(901)
    watch.repaired(1000)
    assert not watch.seen_healthy(1500, policy) and watch.failures == 7
    assert watch.seen_healthy(1900, policy) and watch.failures == 0


def test_state_keeps_events_kept_stacks_waiting_and_env_names(tmp_path):
    with StateStore(tmp_path) as state:
        first = state.record_event("dev", "db", "restart", "unhealthy", {"dependents": ["api"]})
        state.record_event("test", "", "config-error", "broken")
        assert [e.action for e in state.events("dev")] == ["restart"]
        assert [e.id for e in state.events(None, after=first.id)] == [first.id + 1]
        assert state.events(None, limit=1)[0].stack == "test"
        assert first.as_json()["data"] == {"dependents": ["api"]} and first.as_json()["time"].endswith("+00:00")
        state.set_kept("dev", True)
        assert state.kept_stacks() == ["dev"] and state.is_kept("dev") and not state.is_kept("test")
        state.set_waiting("dev", "api", "db")
        assert state.waiting("dev") == {"api": "db"}
        state.set_waiting("dev", "api", None)
        assert state.waiting("dev") == {}
        state.touch_endpoints("dev", "web", ["db", "cache"], {"db": ["DATABASE_URL"]})
        assert {e.service: e.env for e in state.endpoints("dev")} == {"cache": (), "db": ("DATABASE_URL",)}
        state.mark_reconciled("dev", 123.0)
        assert state.last_reconciled("dev") == 123.0


def test_an_older_state_database_gains_the_new_tables(tmp_path):
    conn = sqlite3.connect(tmp_path / "state.db")
    conn.executescript(
        "CREATE TABLE endpoints (stack TEXT NOT NULL, app TEXT NOT NULL, service TEXT NOT NULL, first_seen REAL NOT NULL, "
        "last_seen REAL NOT NULL, phantom_since REAL, PRIMARY KEY (stack, app, service));"
        "INSERT INTO endpoints VALUES ('dev', 'web', 'db', 1, 2, NULL); PRAGMA user_version = 2;"
    )
    conn.close()
    with StateStore(tmp_path) as state:
        assert [(e.app, e.env) for e in state.endpoints("dev")] == [("web", ())]
        state.record_event("dev", "db", "start", "exited")
        assert len(state.events("dev")) == 1


def test_the_project_lock_is_reentrant_in_one_flow_and_exclusive_across_processes(tmp_path):
    import subprocess
    import sys

    probe = f"from omnitron.state import project_lock\nfrom pathlib import Path\ntry:\n    with project_lock(Path({str(tmp_path)!r}), wait=False): print('got')\nexcept Exception as exc: print('busy')"
    with project_lock(tmp_path):
        with project_lock(tmp_path, wait=False):
            assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "busy"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "got"


HOLD_SERVER_IMPORT = """
import runpy, sys, time

class Hold:  # the daemon's server (the engine, aiohttp, the plugins) never finishes importing
    def find_spec(self, name, path=None, target=None):
        while name == "omnitron.daemon.server":
            time.sleep(0.01)

sys.meta_path.insert(0, Hold())
sys.argv = ["omnitron.daemon", "--project", sys.argv[1]]
runpy.run_module("omnitron.daemon", run_name="__main__")
"""


def test_the_daemon_holds_its_lock_and_pid_before_it_loads_and_a_stop_meanwhile_leaves_nothing(tmp_path):
    """What ``infra up`` waits for after starting it is there before the heavy imports; SIGTERM then ends it cleanly."""
    import os
    import signal
    import subprocess
    import sys

    from omnitron.daemon.control import lock_held
    from omnitron.daemon.paths import files_of

    files = files_of(tmp_path)
    daemon = subprocess.Popen([sys.executable, "-c", HOLD_SERVER_IMPORT, str(tmp_path)])
    try:
        deadline = time.monotonic() + 20
        while files.recorded_pid() is None and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.01)
        assert files.recorded_pid() == daemon.pid
        assert lock_held(files)
        os.kill(daemon.pid, signal.SIGTERM)
        assert daemon.wait(10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert not files.pid.exists()
    assert not lock_held(files)


def test_a_start_that_does_not_wait_returns_before_the_daemon_runs_python_and_a_stop_meanwhile_leaves_nothing(tmp_path, monkeypatch):
    """``infra up`` does not wait for the daemon's interpreter: its lock and pid are taken before it starts;
    a SIGTERM sent before it can handle one waits for it, and it ends cleanly."""
    import os
    import signal

    from omnitron.daemon.control import lock_held, start
    from omnitron.daemon.paths import files_of

    gate, site, root = tmp_path / "gate", tmp_path / "site", tmp_path / "project"
    site.mkdir()
    root.mkdir()
    # every interpreter started with this environment waits at its start, before any of omnitron runs
    (site / "sitecustomize.py").write_text(f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.01)\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    files = files_of(root)
    try:
        st, note = start(root, wait=False, timeout=5)
        assert st.running and note == f"started (pid {st.pid})"
        assert files.recorded_pid() == st.pid and lock_held(files)
        os.kill(st.pid, signal.SIGTERM)
    finally:
        gate.touch()
    deadline = time.monotonic() + 20
    while lock_held(files) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not lock_held(files)
    assert not files.pid.exists()  # it handled the SIGTERM: no stale pid


async def _serve(sock: Path, handler) -> object:
    from aiohttp import web

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.UnixSite(runner, str(sock)).start()
    return runner


@pytest.mark.anyio
async def test_the_wire_client_speaks_http_over_the_socket(tmp_path):
    from aiohttp import web

    async def handler(request):
        if request.path == "/stream":
            response = web.StreamResponse()
            await response.prepare(request)
            for i in range(3):
                await response.write(f'{{"n": {i}}}\n'.encode())
            await response.write_eof()
            return response
        body = await request.json() if request.can_read_body else None
        return web.json_response({"method": request.method, "path": request.path_qs, "body": body}, status=201)

    sock = tmp_path / "s.sock"
    runner = await _serve(sock, handler)
    try:
        reply = await anyio.to_thread.run_sync(lambda: wire.request(sock, "POST", "/up?stack=dev", {"ifNoop": True}))
        assert reply.status == 201 and reply.json() == {"method": "POST", "path": "/up?stack=dev", "body": {"ifNoop": True}}
        lines = await anyio.to_thread.run_sync(lambda: list(wire.stream_lines(sock, "/stream")))
        assert [json.loads(x)["n"] for x in lines] == [0, 1, 2]
    finally:
        await runner.cleanup()
    with pytest.raises(wire.WireError):
        wire.request(sock, "GET", "/health")


@pytest.fixture
def procs(register_plugin):
    register_plugin(ChildProcessPlugin(), name="child-process")
    yield ChildProcessProvider
    ChildProcessProvider.stop_all()


def _eco(services: dict, **extra) -> dict:
    return {"project": "shop", "reconcileBackoff": "100ms", "infrastructure": {"services": services}, "stacks": {"dev": {"provider": "process"}}, **extra}


@pytest.mark.anyio
async def test_a_pass_starts_a_killed_service_regates_its_dependent_and_removes_an_orphan(omnitron_project, procs):
    db, api, old = free_port(), free_port(), free_port()
    services = {"db": http_service(db), "api": http_service(api, dependsOn=["db"]), "old": http_service(old)}
    project = omnitron_project.write(_eco(services))
    assert (await bring_up(load_stack(project))).ok
    omnitron_project.write(_eco({"db": services["db"], "api": services["api"]}))
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        assert keeper.refresh(state)
    for key, child in list(ChildProcessProvider.children.items()):  # kill db behind the provider's back
        if key[-1] == "db":
            child.process.kill()
            child.process.wait()
    result = await run_pass(keeper)
    actions = [(a["service"], a["action"]) for a in result.actions]
    assert ("old", "remove-orphan") in actions and ("db", "start") in actions
    assert actions.index(("db", "regate")) < actions.index(("db", "ready")) < actions.index(("api", "released"))
    with StateStore(project.state_dir) as state:
        assert state.waiting("dev") == {} and state.last_reconciled("dev") is not None
    again = await run_pass(keeper)
    assert again.actions == [] and again.as_json()["noop"] is True


class ChorePreset(Preset):
    """Records each chore it is given (the daemon's ``maintain`` calls)."""

    name = "chore"
    service_type = "daemon"

    def expand(self, config, ctx):
        from omnitron.model import ServiceRequirement

        return ServiceRequirement.model_validate({"type": "daemon", "ports": {}, "env": {}, "process": {"command": ["sleep", "30"]}})

    async def maintain(self, service):
        CHORES.append(service.service.name)

    def watched_paths(self, service):
        return list(WATCHED)


CHORES: list[str] = []
WATCHED: list[Path] = []


class ChorePlugin:
    from omnitron import hookimpl

    @hookimpl
    def omnitron_add_presets(self):
        return [ChorePreset]


@pytest.mark.anyio
async def test_maintain_runs_after_up_and_on_every_pass(omnitron_project, procs, register_plugin):
    register_plugin(ChorePlugin(), name="chore-test")
    CHORES.clear()
    project = omnitron_project.write(_eco({"c": {"preset": "chore"}}))
    assert (await bring_up(load_stack(project))).ok
    assert CHORES == ["c"]
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        assert keeper.refresh(state)
    await run_pass(keeper)
    await run_pass(keeper)
    assert CHORES == ["c", "c", "c"]


@pytest.mark.anyio
async def test_a_change_under_a_watched_path_is_seen_within_a_second(tmp_path):
    watched = tmp_path / "conf"
    watched.mkdir()
    seen: list[tuple[str, set[str], float]] = []

    async def on_change(stack: str, services: set[str]) -> None:
        seen.append((stack, services, time.monotonic()))

    watcher = PathWatcher(on_change)
    watcher.paths = {"dev": {watched.resolve(): {"gateway"}}}
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        with anyio.fail_after(5):  # the watch is live: it runs the chores once for what it could not see
            while not seen:
                await anyio.sleep(0.02)
        seen.clear()
        changed = time.monotonic()
        (watched / "site.conf").write_text("server {}")
        with anyio.fail_after(5):
            while not seen:
                await anyio.sleep(0.02)
        tg.cancel_scope.cancel()
    stack, services, at = seen[0]
    assert (stack, services) == ("dev", {"gateway"})
    assert at - changed < 1.0
    assert affected({str(watched / "x" / "y")}, {watched: {"a"}}) == {"a"}
    assert affected({str(tmp_path / "other")}, {watched: {"a"}}) == set()


@pytest.mark.anyio
async def test_an_edit_made_before_the_watch_is_live_still_runs_the_chores(tmp_path):
    """The pass that read a watched path, then an edit, then the watch starting: the watch alone never sees that
    edit (it only reports later changes), so the chores run once as it goes live, not at the next pass."""
    watched = tmp_path / "nginx"
    watched.mkdir()
    (watched / "site.conf").write_text("revision 1")
    seen: list[set[str]] = []

    async def on_change(stack: str, services: set[str]) -> None:
        seen.append(services)

    watcher = PathWatcher(on_change)
    watcher.paths = {"dev": {watched.resolve(): {"gateway"}}}
    (watched / "site.conf").write_text("revision 2")  # after the pass, before the watch
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        with anyio.fail_after(3):
            while not seen:
                await anyio.sleep(0.02)
        tg.cancel_scope.cancel()
    assert seen[0] == {"gateway"}


@pytest.mark.anyio
async def test_a_dependent_waits_while_its_dependency_cannot_come_back(omnitron_project, procs):
    import socket

    from omnitron.usecases import stack_status

    db, api = free_port(), free_port()
    services = {"db": http_service(db, startupTimeout="3s"), "api": http_service(api, dependsOn=["db"])}
    project = omnitron_project.write(_eco(services))
    stack = load_stack(project)
    assert (await bring_up(stack)).ok
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        assert keeper.refresh(state)
    for key, child in list(ChildProcessProvider.children.items()):
        if key[-1] == "db":
            child.process.kill()
            child.process.wait()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", db))
    squatter.listen()  # db's port answers, but db itself cannot start: its probe fails
    try:
        result = await run_pass(keeper)
        assert [a["action"] for a in result.actions if a["service"] == "db"][-2:] == ["failed", "backoff"]
        state = await stack_status(stack)
        assert state.services["api"].waiting_for == "db" and state.ready is False
        assert state.as_json()["services"]["api"]["waitingFor"] == "db"
    finally:
        squatter.close()
    await anyio.sleep(keeper.backoff.initial + 0.05)
    result = await run_pass(keeper)
    assert ("api", "released") in [(a["service"], a["action"]) for a in result.actions]
    state = await stack_status(stack)
    assert state.services["api"].waiting_for is None and state.ready is True


@pytest.mark.anyio
async def test_the_daemon_runs_a_chore_within_a_second_of_a_change_to_a_watched_path(omnitron_project, procs, register_plugin, tmp_path):
    from omnitron.daemon.keeping import Daemon

    register_plugin(ChorePlugin(), name="chore-test")
    watched = tmp_path / "gateway-conf"
    watched.mkdir()
    WATCHED[:] = [watched]
    CHORES.clear()
    try:
        project = omnitron_project.write(_eco({"c": {"preset": "chore"}}))
        assert (await bring_up(load_stack(project))).ok
        daemon = Daemon(project.root, project.plugins)
        keeper = daemon.keeper("dev")
        with StateStore(project.state_dir) as state:
            assert keeper.refresh(state)
        CHORES.clear()
        watcher = PathWatcher(daemon.chores_for)
        watcher.update([keeper])
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher.run)
            with anyio.fail_after(5):  # the chore run once as the watch goes live
                while not CHORES:
                    await anyio.sleep(0.02)
            CHORES.clear()
            changed = time.monotonic()
            (watched / "site.conf").write_text("location / {}")
            with anyio.fail_after(5):
                while not CHORES:
                    await anyio.sleep(0.02)
            took = time.monotonic() - changed
            tg.cancel_scope.cancel()
        assert CHORES == ["c"] and took < 1.0
        with StateStore(project.state_dir) as state:
            assert [(e.service, e.action) for e in state.events("dev")][-1] == ("c", "maintain")
    finally:
        WATCHED.clear()


@pytest.mark.anyio
async def test_a_pass_finishes_a_service_an_interrupted_up_left_unprepared(omnitron_project, procs):
    project = omnitron_project.write(_eco({"db": http_service(free_port())}))
    stack = load_stack(project)
    assert (await bring_up(stack)).ok
    spec = stack.plan.service("db").spec_hash
    with StateStore(project.state_dir) as state:
        state.mark_service("dev", "db", "starting", spec)  # what an up killed before the preset prepared it leaves
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        assert keeper.refresh(state)
    result = await run_pass(keeper)
    assert [(a["service"], a["action"]) for a in result.actions] == [("db", "finish"), ("db", "ready")]
    assert "left it starting" in result.actions[0]["reason"]
    with StateStore(project.state_dir) as state:
        assert state.is_ready("dev", "db", spec)
    assert (await run_pass(keeper)).actions == []


SAVE_ONCE = """
from pathlib import Path as _Path
_target = _Path({target!r})
if "_target" in _target.read_text():  # saved once, while the daemon loads the config: after it was read, before it was digested
    _target.write_text({replacement!r})
"""


def test_a_config_saved_broken_while_the_daemon_loads_it_is_reported_at_the_next_pass(omnitron_project, procs):
    project = omnitron_project.write(_eco({"db": http_service(free_port())}))
    path = project.config_file
    good = path.read_text()
    path.write_text(good + SAVE_ONCE.format(target=str(path), replacement=good + "\nbroken(\n"))
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        assert keeper.refresh(state)  # the plan of what was read: the config as it was before the save
        assert keeper.changed()
        assert not keeper.refresh(state)
        [event] = [e for e in state.events("dev") if e.action == "config-error"]
    assert "omnitron.config.py" in keeper.error and "never closed" in keeper.error and "left as they are" in event.reason


class AppEditPreset(Preset):
    """Rewrites the ``web`` app's config while the stack is planned (after the app's config was read)."""

    name = "app-edit"
    service_type = "daemon"

    def expand(self, config, ctx):
        from omnitron.model import ServiceRequirement

        cfg = APP_CONFIG[0]
        if "edited" not in cfg.read_text():
            cfg.write_text(json.dumps({"omnitron": {"env": {"MODE": "edited"}}}))
        return ServiceRequirement.model_validate({"type": "daemon", "ports": {}, "env": {}, "process": {"command": ["sleep", "30"]}})


APP_CONFIG: list[Path] = []


class AppEditPlugin:
    from omnitron import hookimpl

    @hookimpl
    def omnitron_add_presets(self):
        return [AppEditPreset]


def test_an_app_config_saved_while_the_daemon_plans_is_not_taken_for_the_one_planned(omnitron_project, procs, register_plugin):
    register_plugin(AppEditPlugin(), name="app-edit-test")
    project = omnitron_project.write(_eco({"edit": {"preset": "app-edit"}}), apps={"web": {"env": {"MODE": "first"}}})
    APP_CONFIG[:] = [project.root / "apps" / "web" / "config" / "default.json"]
    keeper = StackKeeper(project.root, "dev", project.plugins)
    with StateStore(project.state_dir) as state:
        for _ in range(2):
            assert keeper.refresh(state)
    assert not keeper.changed()
    assert keeper.stack.project.loaded.apps["web"].config.env == {"MODE": "edited"}
