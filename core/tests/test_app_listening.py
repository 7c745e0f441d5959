"""Where an app listens: what ``omnitron run`` hands it (``PORT``), and what it records once the app really listens.

The end-to-end test runs the real CLI: ``omnitron run`` becomes the app (exec), and the watcher it leaves behind
reads the app's sockets from ``/proc`` and records them in the state store.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omnitron.hostports import free_port, listening_addresses, process_tree
from omnitron.usecases.listening import match_ports

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")

LISTEN = "import os, socket, time; s = socket.socket(); s.bind(('127.0.0.1', int(os.environ.get('LISTEN_PORT') or os.environ['PORT']))); s.listen(); time.sleep(120)"


def test_observed_ports_keep_their_names_and_the_others_take_the_rest_in_order():
    expected = {"http": ("127.0.0.1", 3000), "admin": ("127.0.0.1", 3001)}
    assert match_ports(expected, {("127.0.0.1", 3000), ("0.0.0.0", 3001)}) == expected
    assert match_ports(expected, {("0.0.0.0", 4000), ("127.0.0.1", 3000)}) == {"http": ("127.0.0.1", 3000), "admin": ("127.0.0.1", 4000)}
    assert match_ports({"http": ("127.0.0.1", 3000)}, {("::", 5001), ("127.0.0.1", 5000)}) == {"http": ("127.0.0.1", 5000)}
    assert match_ports(expected, {("10.0.0.5", 4000)}) == {"admin": ("10.0.0.5", 4000), "http": ("127.0.0.1", 3000)}
    assert match_ports(expected, set()) == expected


def test_the_sockets_of_a_process_and_its_children_are_found():
    port = free_port()
    shell = subprocess.Popen(["sh", "-c", f"{sys.executable} -c \"{LISTEN}\" & wait"], env={**os.environ, "PORT": str(port)})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ("127.0.0.1", port) not in listening_addresses(process_tree(shell.pid)):
            time.sleep(0.05)
        tree = process_tree(shell.pid)
        assert len(tree) >= 2 and shell.pid in tree
        assert ("127.0.0.1", port) in listening_addresses(tree)
        assert ("127.0.0.1", port) not in listening_addresses({shell.pid})  # the child holds it, not the shell
    finally:
        for pid in sorted(process_tree(shell.pid), reverse=True):
            os.kill(pid, signal.SIGTERM)
        shell.wait(10)


def _endpoints(root: Path) -> list[tuple]:
    db = root / ".omnitron" / "state.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT app, name, host, port, source FROM app_endpoints").fetchall()
        except sqlite3.OperationalError:  # the first command is still creating the tables
            return []


def test_run_records_where_the_app_really_listens(omnitron_project, omnitron_isolated):
    project = omnitron_project.write({"project": "listen"}, {"web": {}})
    moved = free_port()
    env = {**os.environ, "OMNITRON_PROJECT": str(project.root), "LISTEN_PORT": str(moved)}
    exe = str(Path(sys.executable).parent / "omnitron")
    app = subprocess.Popen([exe, "run", "web", "--", sys.executable, "-c", LISTEN], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(row[4] == "observed" for row in _endpoints(project.root)):
            assert app.poll() is None, "omnitron run exited"
            time.sleep(0.1)
        [row] = _endpoints(project.root)
        assert row == ("web", "http", "127.0.0.1", moved, "observed")
        with sqlite3.connect(project.root / ".omnitron" / "state.db") as conn:
            [(allocated,)] = conn.execute("SELECT port FROM app_ports WHERE app='web'").fetchall()
        assert allocated != moved and 10000 <= allocated < 20000  # PORT said one thing, the app listens elsewhere
        with socket.create_connection(("127.0.0.1", moved), timeout=5):
            pass
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        out = app.communicate(timeout=10)[0].decode()
    assert "Traceback" not in out


def test_port_names_the_primary_port_and_port_name_each_of_several(omnitron_project):
    project = omnitron_project.write({"project": "ports", "apps": [{"name": "api", "ports": {"admin": 9001}}]}, {
        "web": {},
        "api": {"ports": {"http": 8000}},
        "one": {"ports": {"grpc": 7000}},
        "own": {"ports": {"http": 8100}, "env": {"PORT": "9999"}},
    })
    plan = project.plan()
    env = {name: {var: b.template for var, b in app.env.items()} for name, app in plan.apps.items()}
    assert env["web"] == {"PORT": "${port:http}"} and plan.apps["web"].allocated_port == "http"
    assert env["api"] == {"PORT": "${port:http}", "PORT_ADMIN": "${port:admin}", "PORT_HTTP": "${port:http}"}  # the ecosystem's entry adds admin
    assert env["one"] == {"PORT": "${port:grpc}"}
    assert env["own"] == {"PORT": "9999"}  # the app's own env wins
