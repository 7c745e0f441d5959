"""Busy host ports, custom ``process.command`` services, the plugin entry point and path rules."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import httpx
import pytest

from omnitron.api import free_port, ProvisionError, StartupTimeout
from omnitron.testing import PluginManager
from omnitron_provider_process import ProcessProvider
from omnitron_provider_process.paths import MAX_RUN_DIR, safe_name, service_paths, short_runtime_root
from process_testlib import group_gone, port_closed, redis_eco, require_source

pytestmark = pytest.mark.anyio


async def test_check_ports_names_a_port_taken_by_someone_else(env):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env.write(redis_eco(port))
        provider = env.provider()
        svc = env.service("cache")
        problems = await provider.check_ports([svc])
        assert len(problems) == 1
        line = problems[0]
        assert line.startswith(f"port {port} (service cache, port main) is already in use by pid {os.getpid()} (")
        assert "portOffsets" in line
        require_source("redis", "system")
        with pytest.raises(ProvisionError) as exc:
            await provider.ensure(env.runtime_spec("cache"))
        assert str(exc.value) == line
        assert env.record("cache", "dev") is None


async def test_check_ports_is_quiet_for_our_own_running_service(env):
    require_source("redis", "system")
    port = free_port()
    env.write(redis_eco(port))
    provider = env.provider()
    assert await provider.check_ports([env.service("cache")]) == []
    await provider.ensure(env.runtime_spec("cache"))
    assert await provider.check_ports([env.service("cache")]) == []
    theirs = env.service("cache").model_copy(update={"provider": "docker"})  # as a plan made with the docker provider has it
    assert await provider.check_ports([theirs]) == [], "other providers' services are not ours to check"


async def test_custom_command_service(env):
    """A service with ``process.command`` runs that command with its rendered env; stop takes the whole group."""
    port = free_port()
    script = "import os, http.server as h; h.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), h.SimpleHTTPRequestHandler).serve_forever()"
    env.write({"infrastructure": {"services": {"web-static": {
        "ports": {"http": port},
        "process": {"command": [sys.executable, "-c", script], "env": {"PORT": "${port:http}"}},
    }}}})
    provider = env.provider()
    spec = env.runtime_spec("web-static")
    assert spec.env == {"PORT": str(port)}
    state = await provider.ensure(spec)
    assert state.image == sys.executable
    data_dir = provider.paths("web-static").data_dir
    (data_dir / "hello.txt").write_text("hi")
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"http://127.0.0.1:{port}/hello.txt")).text == "hi"
    rec = env.record("web-static")
    assert rec.info["user"] is None, "only services that refuse root drop privileges"
    await provider.stop("web-static")
    assert group_gone(rec.pgid) and port_closed(port)


async def test_a_command_that_never_listens_runs_out_of_its_startup_timeout(env):
    """Waiting for its ports ends in a :class:`StartupTimeout` (the engine says what to do next), and nothing of it is left."""
    port = free_port()
    env.write({"infrastructure": {"services": {"idle": {
        "ports": {"http": port}, "startupTimeout": "300ms",
        "process": {"command": [sys.executable, "-c", "import time; time.sleep(60)"]},
    }}}})
    with pytest.raises(StartupTimeout) as exc:
        await env.provider().ensure(env.runtime_spec("idle"))
    assert f"service idle: not listening on 127.0.0.1 (http={port}) after 0.3s" in str(exc.value)
    assert group_gone(env.record("idle").pgid)


async def test_a_recycled_pid_is_not_taken_for_ours(env):
    """A record whose pid now belongs to another process is a dead service: restarted, and the other process is left alone."""
    require_source("redis", "system")
    port = free_port()
    env.write(redis_eco(port))
    provider = env.provider()
    await provider.ensure(env.runtime_spec("cache"))
    rec = env.record("cache", "dev")
    await provider.stop("cache")
    rec.pid = rec.pgid = os.getpid()  # this test process stands in for whoever got the pid
    rec.info["stopped"] = False
    env.state.put_record("dev", provider.name, "cache", rec)
    assert (await provider.list_managed())["cache"].status == "exited"
    state = await provider.ensure(env.runtime_spec("cache"))
    assert state.status == "running" and state.container_id != str(os.getpid())
    assert any("is gone: restarting" in detail for _, _, detail in env.progress)


async def test_remove_all_data_deletes_data_of_services_not_running(env):
    require_source("redis", "system")
    port_a, port_b = free_port(), free_port()
    env.write({"infrastructure": {"services": {
        "a": {"preset": "redis", "config": {"port": port_a}},
        "b": {"preset": "redis", "config": {"port": port_b}},
    }}})
    provider = env.provider()
    await provider.ensure(env.runtime_spec("a"))
    await provider.ensure(env.runtime_spec("b"))
    data_a, data_b = provider.paths("a").data_dir, provider.paths("b").data_dir
    await provider.stop("a")
    leftover = provider.ctx.state_dir / "data" / "old+service"
    leftover.mkdir(parents=True)
    await provider.remove_all_data()
    assert not data_a.exists() and not leftover.exists()
    assert data_b.exists(), "a running service keeps its data"
    assert set(await provider.list_managed()) == {"b"}


def test_plugin_registers_the_provider():
    providers = PluginManager().providers
    assert providers["process"] is ProcessProvider


def test_paths_are_safe_and_short_enough_for_sockets(tmp_path):
    assert safe_name("web/postgres") == "web+postgres"
    short = service_paths(Path("/p/.omnitron/stacks/dev"), "p", "web/postgres", None)
    assert short.run_dir == Path("/p/.omnitron/stacks/dev/run/web+postgres")
    deep = tmp_path / ("x" * 60) / ".omnitron" / "stacks" / "dev"
    moved = service_paths(deep, "p", "db", None)
    assert moved.run_dir.parent == short_runtime_root() and len(str(moved.run_dir)) <= MAX_RUN_DIR
    assert moved.data_dir == deep / "data" / "db"
    assert service_paths(deep, "p", "db", None).run_dir == moved.run_dir, "stable across calls"


async def test_unknown_service_is_reported_not_crashed(env):
    env.write(redis_eco(free_port()))
    provider = env.provider()
    with pytest.raises(ProvisionError, match="service nope: no process and no log"):
        [line async for line in provider.logs("nope")]
    await provider.stop("nope")
    await provider.remove("nope", volumes=True)
    assert (await provider.exec("nope", ["true"])).exit_code == 125
    assert await provider.list_managed() == {}
