"""What the process provider records, where, and how it finds a service again (also after an upgrade)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import textwrap

import anyio
import pytest

from omnitron.api import ProcessRecipe, ProvisionError, free_port, is_listening
from omnitron_provider_process.runner import resolve_command

pytestmark = pytest.mark.anyio

SERVER = textwrap.dedent(
    """
    import socket, sys
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        server.accept()[0].close()
    """
)


def custom(env, port: int):
    env.write({"infrastructure": {"services": {"web": {"ports": {"main": port}, "process": {"command": [sys.executable, "-c", SERVER, "${port:main}"]}}}}})
    return env.runtime_spec("web")


async def test_records_of_an_older_omnitron_are_moved_and_the_service_is_found(env):
    """omnitron 0.1 kept a ``processes`` table: a running service recorded there is still found after the upgrade."""
    spec = custom(env, free_port())
    provider = env.provider()
    state = await provider.ensure(spec)
    rec = env.record("web")
    with sqlite3.connect(env.state.path) as db:
        db.execute(
            "CREATE TABLE processes (stack TEXT NOT NULL, service TEXT NOT NULL, pid INTEGER NOT NULL, pgid INTEGER NOT NULL, spec_hash TEXT NOT NULL, "
            "started_at REAL NOT NULL, data_dir TEXT, log_path TEXT, info_json TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (stack, service))"
        )
        db.execute("INSERT INTO processes VALUES (?,?,?,?,?,?,?,?,?)", ("dev", "web", rec.pid, rec.pgid, rec.spec_hash, rec.started_at, rec.data_dir, rec.log_path, json.dumps(rec.info)))
        db.execute("DELETE FROM provider_records")
    assert env.record("web") is None
    upgraded = env.provider()
    found = (await upgraded.list_managed())["web"]
    assert (found.status, found.container_id, found.spec_hash) == ("running", state.container_id, spec.service.spec_hash)
    assert env.record("web") == rec
    with sqlite3.connect(env.state.path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name='processes'").fetchone() is None
    await upgraded.remove("web", volumes=True)


class BareNameRecipe(ProcessRecipe):
    """A recipe whose command starts with a bare program name, as a plugin author may write it."""

    binaries = ("sh",)

    def __init__(self, program: str) -> None:
        self.program = program

    def command(self, run):
        return [self.program, "-c", SERVER, str(run.port["main"])]


async def test_a_bare_program_name_is_resolved_on_path_and_the_service_found_again(env):
    spec = custom(env, free_port())
    provider = env.provider()
    state = await provider.ensure(dataclasses.replace(spec, recipe=BareNameRecipe("python3")))
    assert state.status == "running"
    assert env.record("web").info["binary"].startswith("/")
    again = (await env.provider().list_managed())["web"]
    assert (again.status, again.container_id) == ("running", state.container_id), "status and down must find it"
    await provider.remove("web", volumes=True)
    assert "web" not in await provider.list_managed()


async def test_a_bare_program_name_found_nowhere_is_a_clear_error(env):
    spec = custom(env, free_port())
    with pytest.raises(ProvisionError, match=r"service web: the process recipe's command starts with 'no-such-program-x', which is not on PATH"):
        await env.provider().ensure(dataclasses.replace(spec, recipe=BareNameRecipe("no-such-program-x")))


def test_resolve_command_prefers_the_recipe_binaries(tmp_path):
    mine = tmp_path / "tool"
    assert resolve_command("s", ["tool", "-x"], {"tool": mine}, "/usr/bin:/bin") == [str(mine), "-x"]
    assert resolve_command("s", ["/abs/tool"], {}, "") == ["/abs/tool"]
    assert resolve_command("s", ["sh"], {}, "/usr/bin:/bin")[0].endswith("/sh")


class _Killed(BaseException):
    """Stands for a SIGKILL of the command: nothing after the point where it is raised runs, no cleanup either."""


def kill_at_save(monkeypatch: pytest.MonkeyPatch, provider, nth: int) -> None:
    """Make the provider's ``nth`` record write (1: before the spawn, 2: the pid, 3: prepared) end the command."""
    calls = []
    real = type(provider)._save

    def save(self, rec):
        calls.append(rec)
        if len(calls) == nth:
            raise _Killed
        real(self, rec)

    monkeypatch.setattr(type(provider), "_save", save)


@pytest.mark.parametrize("nth", [2, 3], ids=["before-the-pid-is-recorded", "before-it-is-prepared"])
async def test_a_start_killed_half_way_is_not_adopted_and_its_process_not_taken_for_a_stranger(env, monkeypatch, nth):
    """A command killed after spawning a service and before recording its pid (or before recording it prepared):
    the next one neither reports the server's port as taken by someone else nor adopts the half-started server;
    it stops that process and starts the service again."""
    from omnitron_provider_process.supervise import launched_with

    spec = custom(env, port := free_port())
    killed = env.provider()
    kill_at_save(monkeypatch, killed, nth)
    with pytest.raises(_Killed):
        await killed.ensure(spec)
    monkeypatch.undo()
    rec = env.record("web")
    assert rec is not None and not rec.prepared and rec.pending == (nth == 2)
    (half,) = launched_with(rec.info["launch"])
    with anyio.fail_after(10):
        while not is_listening(port, "127.0.0.1"):
            await anyio.sleep(0.02)

    provider = env.provider()
    assert await provider.check_ports([spec.service]) == []
    state = await provider.ensure(env.runtime_spec("web"))
    assert state.status == "running" and int(state.container_id) != half
    assert launched_with(rec.info["launch"]) == []  # the half-started process is gone
    assert env.record("web").prepared
    assert any(s == "web" and "did not complete" in d for s, _, d in env.progress)
    await provider.remove("web", volumes=True)
