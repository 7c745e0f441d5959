"""The plan cache: the fast answers load no model and no driver, equal the full path's, and give way when an input changes.

Behaviour tests, nothing timed: each command runs as the ``omnitron`` script
does, in a fresh interpreter (:func:`omnitron.testing.run_script`), and which
path answered is told by what it imported (the full path plans with pydantic).
The service is a real TCP server the test runs, reached through a stack's
``external`` override (the core's own provider: the core tests install no
other), with a secret in the app's env.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from _tcp import tcp_server
from omnitron.poll import attempts_sync
from omnitron.quickcheck import QuickCheck
from omnitron.testing import run_script

HEAVY = {"pydantic", "pydantic_core", "psycopg", "redis", "aiohttp", "anyio", "cyclopts", "pluggy", "rich", "dataclasses"}
"""Modules the fast answers never load (``dataclasses`` with ``inspect`` costs about 8 ms: the state and secret stores use named tuples)."""
DUMP_ENV = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]

CONFIG = """\
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import helper
from omnitron import define_ecosystem

port = int(open(os.path.join(os.path.dirname(__file__), "port.txt")).read())
ecosystem = define_ecosystem(
    project="cached",
    apps=[{"name": "web", "command": DUMP}],
    infrastructure={"services": {"api": {
        "ports": {"main": 1},
        "env": {"API_URL": "http://u:${secret:token}@${host}:${port:main}/" + helper.PATH + "/" + os.environ.get("CACHED_MODE", "plain")},
        "secrets": {"token": {"secret": "cached/token"}},
        "docker": {"image": "example/api:1"},
        "healthCheck": {"tcp": {"port": "main"}},
        "startupTimeout": "3s",
    }}},
    stacks={"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"main": port}}}}}},
)
"""


class Listener:
    """A TCP server that keeps what it accepts open (what the tcp probe counts as up): :func:`_tcp.tcp_server`, open
    until :meth:`close`, with the connections it accepted in ``held``."""

    def __init__(self) -> None:
        self.held: list[socket.socket] = []
        self._server = tcp_server(keep=True, held=self.held)
        self.port = self._server.__enter__()

    def accepted(self, count: int, timeout: float = 5.0) -> None:
        """Wait until ``count`` connections were accepted (or the timeout: the caller's assertion says what came)."""
        for _ in attempts_sync(timeout):
            if len(self.held) >= count:
                return

    def close(self) -> None:
        """The port stops answering now; what was accepted is closed (again: a no-op)."""
        server, self._server = self._server, None
        if server is not None:
            server.__exit__(None, None, None)


@pytest.fixture
def servers():
    made: list[Listener] = []

    def make() -> Listener:
        made.append(Listener())
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def api(servers):
    return servers()


@pytest.fixture
def project(omnitron_isolated, tmp_path, api, monkeypatch):
    monkeypatch.setenv("OMNITRON_PLUGINS", "")
    monkeypatch.setenv("OMNITRON_PROJECT", str(tmp_path))
    monkeypatch.delenv("OMNITRON_PLAN_CACHE", raising=False)
    (tmp_path / "omnitron.config.py").write_text(CONFIG.replace("DUMP", repr(DUMP_ENV)))
    (tmp_path / "helper.py").write_text('PATH = "v1"\n')
    (tmp_path / "port.txt").write_text(str(api.port))
    cfg = tmp_path / "apps" / "web" / "config"
    cfg.mkdir(parents=True)
    (cfg / "default.json").write_text('{"omnitron": {"services": {"api": true}}}')
    assert omnitron("secret", "set", "cached/token", "first-token").code == 0
    up = omnitron("infra", "up")
    assert up.code == 0, up.err
    assert "pydantic" in up.modules  # the first up plans (and writes the cache)
    first = omnitron("run", "web", "--", "true")
    assert "pydantic" in first.modules  # the app's first run records where it listens, and the services' chores run
    return tmp_path


def omnitron(*argv: str, **env: str):
    return run_script(list(argv), env={**os.environ, **env})


def full(*argv: str, **env: str):
    return omnitron(*argv, **env, OMNITRON_PLAN_CACHE="off")


def app_env(done) -> dict[str, str]:
    assert done.code == 0, done.err
    env = json.loads(done.out)
    env.pop("OMNITRON_PLAN_CACHE", None)
    env.pop("OMNITRON_TEST_IMPORTS_TO", None)
    return env


def assert_fast(done) -> None:
    assert done.code == 0, done.err
    assert not done.modules & HEAVY, sorted(done.modules & HEAVY)


def test_the_fast_answers_load_no_model_and_no_driver(project):
    for argv in (["infra", "up"], ["infra", "status", "--json"], ["infra", "ps", "--json"], ["run", "web", "--", "true"]):
        done = omnitron(*argv)
        assert_fast(done)
        if argv[0] == "infra":
            assert "cryptography" not in done.modules  # no secret is read to answer
    ran = omnitron("run", "web", "--", *DUMP_ENV)
    assert_fast(ran)
    assert "cryptography" in ran.modules  # the app's secret is read from the store, now
    assert "pydantic" in full("infra", "status", "--json").modules  # the check can fail: the full path is seen


def test_the_fast_answers_equal_the_full_paths(project):
    fast_status, full_status = omnitron("infra", "status", "--json"), full("infra", "status", "--json")
    assert_fast(fast_status)
    assert json.loads(fast_status.out) == json.loads(full_status.out)
    assert fast_status.out == full_status.out  # the same text, key order included
    fast_run, full_run = omnitron("run", "web"), full("run", "web")  # the app's own command
    assert_fast(fast_run)
    assert app_env(fast_run) == app_env(full_run)
    assert app_env(fast_run)["API_URL"].startswith("http://u:first-token@127.0.0.1:")
    fast_up, full_up = omnitron("infra", "up"), full("infra", "up")
    assert_fast(fast_up)
    assert fast_up.out.splitlines()[0] == full_up.out.splitlines()[0]  # project, stack, provider
    assert fast_up.out.splitlines()[-1].startswith("ready: 1 service in ")
    assert full_up.out.splitlines()[-1].startswith("ready: 1 service in ")
    assert any(line.startswith("api: ready (up to date: 127.0.0.1:") for line in fast_up.out.splitlines())


def test_the_cache_holds_no_secret_value_and_only_its_owner_reads_it(project):
    files = list((project / ".omnitron" / "plan-cache").glob("*.json"))
    assert files
    for path in files:
        assert "first-token" not in path.read_text()
        assert path.stat().st_mode & 0o777 == 0o600


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


CHANGES = {
    "the config file": lambda root, env, servers: _edit(root / "omnitron.config.py", "project=", "# edited\n    project="),
    "an app's config": lambda root, env, servers: (root / "apps/web/config/default.json").write_text('{"omnitron": {"services": {"api": true}, "env": {"EXTRA": "yes"}}}'),
    "a file the config reads": lambda root, env, servers: (root / "port.txt").write_text(str(servers().port)),
    "a module the config imports": lambda root, env, servers: (root / "helper.py").write_text('PATH = "v2"\n'),
    "a variable the config reads": lambda root, env, servers: env.update(CACHED_MODE="fancy"),
    "an omnitron variable": lambda root, env, servers: env.update(OMNITRON_CONFIG_TIMEOUT="9"),
    "the secret store": lambda root, env, servers: omnitron("secret", "set", "cached/token", "second-token"),
    "the installed software": lambda root, env, servers: env.update(PYTHONPATH=str(_fake_distribution(root))),
}


def _fake_distribution(root: Path) -> Path:
    site = root.parent / "more-site"
    (site / "extra_plugin-1.0.dist-info").mkdir(parents=True, exist_ok=True)
    return site


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_input_sends_every_command_down_the_full_path_with_the_right_answer(project, servers, change):
    env: dict[str, str] = {}
    CHANGES[change](project, env, servers)
    ran = omnitron("run", "web", **env)
    assert "pydantic" in ran.modules, change  # planned again
    assert app_env(ran) == app_env(full("run", "web", **env))
    again = omnitron("run", "web", **env)  # the full path wrote the cache anew
    assert_fast(again)
    assert app_env(again) == app_env(ran)
    status = omnitron("infra", "status", "--json", **env)
    assert status.code == 0 and json.loads(status.out)["ready"] is True
    assert json.loads(status.out) == json.loads(full("infra", "status", "--json", **env).out)


def test_each_change_is_seen_in_the_answer(project, servers):
    (project / "helper.py").write_text('PATH = "v2"\n')
    assert "/v2/plain" in app_env(omnitron("run", "web"))["API_URL"]
    assert "/v2/fancy" in app_env(omnitron("run", "web", CACHED_MODE="fancy"))["API_URL"]
    omnitron("secret", "set", "cached/token", "second-token")
    assert app_env(omnitron("run", "web"))["API_URL"].startswith("http://u:second-token@")
    moved = servers()
    (project / "port.txt").write_text(str(moved.port))
    assert json.loads(omnitron("infra", "status", "--json").out)["services"]["api"]["ports"] == {"main": moved.port}


def test_a_server_gone_and_a_stack_brought_down_take_the_full_path(project, api):
    assert_fast(omnitron("infra", "up"))
    api.close()  # the server goes away: the quick check fails
    status = omnitron("infra", "status", "--json")
    assert "pydantic" in status.modules
    assert json.loads(status.out)["ready"] is False  # the full answer, not the cached one
    assert omnitron("infra", "up").code == 1  # the full up says it fails: the cache does not hide it
    assert "pydantic" in omnitron("run", "web", "--", "true").modules
    assert omnitron("infra", "down").code == 0
    assert "pydantic" in omnitron("infra", "up").modules  # after a down the stack is not up: up plans


def test_a_full_up_probes_each_service_once_and_still_writes_the_cache(project, api):
    cache = project / ".omnitron" / "plan-cache" / "dev.json"
    cache.unlink()  # the next up takes the full path
    before = len(api.held)
    up = omnitron("infra", "up")
    assert up.code == 0 and "pydantic" in up.modules, up.err
    # the external provider's reachability checks (as up starts it, as the cache's status observes it) and the
    # health gate's probe: the status the cache holds is what the gate found, not a second probe
    api.accepted(before + 3)  # the accepting thread may lag behind the command that connected
    assert len(api.held) - before == 3
    assert json.loads(cache.read_text())["status"]["services"]["api"]["health"] == "healthy"
    assert_fast(omnitron("infra", "up"))


def test_switched_off_nothing_is_read_or_written(project, monkeypatch):
    monkeypatch.setenv("OMNITRON_PLAN_CACHE", "off")
    assert "pydantic" in omnitron("infra", "up").modules
    cache = project / ".omnitron" / "plan-cache" / "dev.json"
    before = cache.stat().st_mtime_ns
    omnitron("infra", "status", "--json")
    assert cache.stat().st_mtime_ns == before


def test_quick_checks_fail_when_what_they_check_is_gone():
    listener = Listener()
    try:
        assert QuickCheck.tcp("127.0.0.1", listener.port).run() is None
        assert QuickCheck.pid(os.getpid()).run() is None
    finally:
        listener.close()
    assert QuickCheck.tcp("127.0.0.1", listener.port).run() is not None
    from omnitron.quickcheck import proc_starttime

    stat = proc_starttime(os.getpid())
    assert stat is not None
    assert QuickCheck.pid(os.getpid(), starttime=stat[2] + 1).run() is not None  # a recycled pid is not ours
    assert QuickCheck.pid(2**22 + 12345).run() is not None


class Stamped:
    """A plugin's secret template function that computes its value without the secret store."""

    from omnitron import hookimpl

    @hookimpl
    def omnitron_add_template_functions(self):
        from omnitron.templating import TemplateFunction

        class Stamp(TemplateFunction):
            name = "stamp"
            takes_argument = False
            secret = True

            def render(self, arg, ctx):
                return "computed-secret-value"

        return [Stamp]


@pytest.mark.anyio
async def test_an_env_with_a_secret_not_from_the_store_is_never_cached(omnitron_isolated, omnitron_project, register_plugin, api, monkeypatch):
    from omnitron.plancache import files
    from omnitron.usecases import bring_up, load_stack
    from omnitron.usecases.plan_cache import remember

    monkeypatch.delenv("OMNITRON_PLAN_CACHE", raising=False)
    register_plugin(Stamped())
    service = {"ports": {"main": 1}, "docker": {"image": "example/api:1"}, "env": {"API_URL": "http://${host}:${port:main}"}}
    project = omnitron_project.write(
        {"project": "stamped", "apps": [{"name": "plain"}, {"name": "stamped"}], "infrastructure": {"services": {"api": service}},
         "stacks": {"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"main": api.port}}}}}}},
        {"plain": {"services": {"api": True}}, "stamped": {"services": {"api": True}, "env": {"TOKEN": "${stamp}"}}},
    )
    stack = load_stack(project, record=True)
    assert (await bring_up(stack)).ok
    await remember(stack, up_warnings=[], default=True)
    doc = files.read(project.state_dir, None)
    assert doc is not None and doc["apps"]["plain"] is not None  # the check can fail: a plain app is cached
    assert doc["apps"]["stamped"] is None
    assert "computed-secret-value" not in (project.state_dir / "plan-cache" / "dev.json").read_text()


RACED = """\
import os
from omnitron import define_ecosystem

here = os.path.dirname(__file__)
with open(os.path.join(here, "port.txt")) as f:
    port = int(f.read())
if not os.path.exists(os.path.join(here, "saved")):  # a save of port.txt that lands after it was read, while the plan is made
    open(os.path.join(here, "saved"), "w").close()
    with open(os.path.join(here, "port.txt"), "w") as f:
        f.write(str(port + 1))
ecosystem = define_ecosystem(
    project="raced",
    infrastructure={"services": {"api": {"ports": {"main": 1}, "docker": {"image": "example/api:1"}}}},
    stacks={"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"main": port}}}}}},
)
"""


def test_a_file_saved_while_the_plan_is_made_from_it_is_not_taken_for_the_one_planned(omnitron_isolated, tmp_path, monkeypatch):
    from omnitron.plancache.inputs import key_holds
    from omnitron.usecases.loading import load_stack

    monkeypatch.setenv("OMNITRON_PLUGINS", "")
    monkeypatch.delenv("OMNITRON_PLAN_CACHE", raising=False)
    (tmp_path / "omnitron.config.py").write_text(RACED)
    (tmp_path / "port.txt").write_text("40001")
    loaded = load_stack(tmp_path, record=True)
    assert loaded.plan.service("api").ports["main"] == 40001  # planned from what was read
    assert (tmp_path / "port.txt").read_text() == "40002"  # and saved since
    assert loaded.inputs, "the plan was recorded"
    assert str((tmp_path / "port.txt").resolve()) in loaded.inputs["files"]
    assert not key_holds(loaded.inputs, loaded.project.state_dir, loaded.plan.stack)  # the next command plans again

    again = load_stack(tmp_path, record=True)  # nothing is saved this time
    assert again.plan.service("api").ports["main"] == 40002
    assert key_holds(again.inputs, again.project.state_dir, again.plan.stack)


def test_planning_reads_the_same_from_no_store_as_from_a_stack_that_is_down(tmp_path: Path) -> None:
    """A first cold ``up`` and one after ``down`` plan from the same state: their keys (and head starts) match."""
    from omnitron.plancache.inputs import plan_state
    from omnitron.state import StateStore

    before = plan_state(tmp_path, "dev")
    with StateStore(tmp_path) as state:
        state.set_kept("dev", True)
    up = plan_state(tmp_path, "dev")
    with StateStore(tmp_path) as state:
        state.set_kept("dev", False)
    assert plan_state(tmp_path, "dev") == before != up
