"""Head starts against a real engine, through the ``omnitron`` command line: a cold ``infra up`` starts the
containers from the last cold up's recipes while it is still loading, and only while nothing changed.

Each test brings a Postgres + Redis stack up cold once (which records the recipes), down, and up again; the
second ``up`` says which services were started ahead, and the services answer with the secrets of the store.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from docker_testlib import POSTGRES_IMAGE, REDIS_IMAGE, Sandbox, docker_cli
from omnitron.api import free_port

pytestmark = [pytest.mark.docker]

PASSWORD = "hs-Secret_42z"
AHEAD = "started ahead of planning"


class Cli:
    """``omnitron`` run as a user runs it, in the sandbox's project, with a key and a config dir of its own."""

    def __init__(self, box: Sandbox, tmp: Path) -> None:
        self.root = box.root
        self.env = {
            **os.environ,
            "OMNITRON_CONFIG_DIR": str(tmp / "config"),
            "OMNITRON_SECRET_KEY": os.urandom(32).hex(),
            "OMNITRON_DAEMON": "off",
            "OMNITRON_DOCKER_TEMPLATE": "off",  # Postgres initialises as the image does: it gets a head start too
        }
        for name in ("OMNITRON_HEAD_START", "OMNITRON_PLAN_CACHE"):
            self.env.pop(name, None)

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", "from omnitron.cli import run; run()", *args],
            cwd=self.root, env={**self.env, **(env or {})}, input=stdin, capture_output=True, text=True, timeout=180,
        )
        if check:
            assert done.returncode == 0, f"omnitron {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done


def config(box: Sandbox, pg: int, rd: int, *, maxmemory: str | None = None) -> None:
    extra = f', maxmemory = "{maxmemory}"' if maxmemory else ""
    box.write(
        '[stacks.dev]\ntype = "local"\nprovider = "docker"\n'
        f'[infrastructure.services.db]\npreset = "postgres"\nconfig = {{image = "{POSTGRES_IMAGE}", port = {pg}}}\n'
        f'[infrastructure.services.cache]\npreset = "redis"\nconfig = {{image = "{REDIS_IMAGE}", port = {rd}{extra}}}\n'
    )


@pytest.fixture
def stack(sandbox: Sandbox, tmp_path: Path) -> tuple[Cli, int, int]:
    """The stack brought up cold once and down again (the recipes recorded), passwords set in the store."""
    pg, rd = free_port(), free_port()
    config(sandbox, pg, rd)
    cli = Cli(sandbox, tmp_path)
    for service in ("db", "cache"):
        cli("secret", "set", f"{sandbox.name}/dev/{service}/password", stdin=PASSWORD)
    first = cli("infra", "up")
    assert AHEAD not in first.stdout  # nothing recorded yet
    cli("infra", "down", "--volumes")
    return cli, pg, rd


def answers(pg: int, rd: int) -> None:
    """Postgres and Redis answer with the password of the store (the secrets were put back right)."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres:{PASSWORD}@127.0.0.1:{pg}/postgres", connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with socket.create_connection(("127.0.0.1", rd), timeout=5) as sock:
        sock.sendall(f"AUTH {PASSWORD}\r\nPING\r\n".encode())
        reply = b""
        while reply.count(b"\r\n") < 2:
            reply += sock.recv(100)
    assert reply == b"+OK\r\n+PONG\r\n"


def test_a_cold_up_starts_both_services_ahead_and_adopts_them(stack: tuple[Cli, int, int], sandbox: Sandbox) -> None:
    cli, pg, rd = stack
    kept = sandbox.root / ".omnitron" / "plan-cache" / "head-start.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    text = kept.read_text()
    assert PASSWORD not in text and "secretParts" in text  # references to the store, never a value
    up = cli("infra", "up")
    lines = [line for line in up.stdout.splitlines() if AHEAD in line]
    assert sorted(line.split(":")[0] for line in lines) == ["cache", "db"], up.stdout
    assert "creating" not in up.stdout and "recreating" not in up.stdout  # the full path found them as planned
    answers(pg, rd)
    again = cli("infra", "up")
    assert "up to date" in again.stdout  # no-op: nothing to redo about what the head start made
    status = json.loads(cli("infra", "status", "--json").stdout)
    assert {name: s["status"] for name, s in status["services"].items()} == {"db": "running", "cache": "running"}


def test_a_changed_config_or_the_switch_plans_first(stack: tuple[Cli, int, int], sandbox: Sandbox) -> None:
    cli, pg, rd = stack
    up = cli("infra", "up", env={"OMNITRON_HEAD_START": "off"})
    assert AHEAD not in up.stdout
    cli("infra", "down", "--volumes")
    config(sandbox, pg, rd, maxmemory="32mb")
    up = cli("infra", "up")
    assert AHEAD not in up.stdout  # the recipe was made from another config
    answers(pg, rd)
    assert "maxmemory 32mb" in docker_cli("exec", f"omnitron-{sandbox.name}-dev-cache", "redis-cli", "-a", PASSWORD, "--no-auth-warning", "config", "get", "maxmemory").replace("\n", " ").replace("33554432", "32mb")


def test_a_taken_port_leaves_everything_to_the_full_path(stack: tuple[Cli, int, int], sandbox: Sandbox) -> None:
    cli, pg, rd = stack
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", rd))
        holder.listen()
        up = cli("infra", "up", check=False)
    assert up.returncode != 0 and "host port collision" in up.stdout + up.stderr and str(rd) in up.stdout + up.stderr
    assert AHEAD not in up.stdout
    # nothing started before the collision was found: not even the service whose port was free
    assert docker_cli("ps", "-aq", "--filter", f"label=omnitron.project={sandbox.name}").strip() == ""
