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


def test_a_port_offset_keeps_every_port_free_and_below_the_ephemeral_range():
    from omnitron.hostports import can_bind, ephemeral_start, free_port_offset

    low = ephemeral_start() or 65536
    for _ in range(20):
        offset = free_port_offset([5432, 9001], lowest=2000)
        assert offset % 100 == 0 and offset >= 2000
        assert 9001 + offset < low
        assert can_bind(5432 + offset) and can_bind(9001 + offset)
    with pytest.raises(ValueError, match="below"):
        free_port_offset([low - 50], lowest=100)


def test_a_port_held_by_an_outgoing_connection_says_so():
    from omnitron.hostports import describe_listeners, ephemeral_start

    if not ephemeral_start():
        pytest.skip("the kernel does not say where its ephemeral range starts")
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.connect(server.getsockname())  # its local end: a port from the ephemeral range
        local = client.getsockname()[1]
        assert "range for outgoing connections" in describe_listeners(local, "127.0.0.1")
