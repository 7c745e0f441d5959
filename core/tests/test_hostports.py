"""Who listens on a port: the /proc reading the process provider's collision check uses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from omnitron.hostports import listeners

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads /proc (Linux)")


@pytest.fixture
def port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_the_listening_process_is_found_with_or_without_a_hint(port):
    assert listeners(port, "127.0.0.1") == {os.getpid(): listeners(port, "127.0.0.1")[os.getpid()]}
    assert set(listeners(port, "127.0.0.1", prefer=[os.getpid()])) == {os.getpid()}


def test_a_wrong_hint_still_finds_the_real_listener(port):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert set(listeners(port, "127.0.0.1", prefer=[child.pid])) == {os.getpid()}
    finally:
        child.kill()
        child.wait()


def test_nothing_listening_is_nobody():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert listeners(free, "127.0.0.1", prefer=[os.getpid()]) == {}
