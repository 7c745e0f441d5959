"""The docker provider against a real engine and the local test images (postgres, redis, debian)."""

from __future__ import annotations

import json
import os
import socket

import anyio
import psycopg
import pytest
from docker_testlib import (
    BASE_IMAGE,
    PASSWORD,
    Sandbox,
    by_label,
    docker_cli,
    inspect,
    postgres_toml,
    redis_toml,
)
from omnitron.api import free_port, ProvisionError

from omnitron_provider_docker import DockerProvider

pytestmark = [pytest.mark.anyio, pytest.mark.docker]

TICKER = f"""
[infrastructure.services.ticker]
docker = {{image = "{BASE_IMAGE}", command = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done"]}}
"""


async def connect_postgres(port: int, password: str = PASSWORD, timeout: float = 90) -> psycopg.AsyncConnection:
    """Connect once the server accepts TCP connections with ``password`` (initdb takes a few seconds)."""
    last: Exception | None = None
    with anyio.move_on_after(timeout):
        while True:
            try:
                return await psycopg.AsyncConnection.connect(
                    host="127.0.0.1", port=port, user="postgres", password=password, dbname="postgres", connect_timeout=3, autocommit=True
                )
            except psycopg.OperationalError as exc:
                last = exc
                await anyio.sleep(0.3)
    raise AssertionError(f"postgres on port {port} did not accept connections within {timeout}s: {last}")


async def redis_answers(provider: DockerProvider, timeout: float = 30, password: str = PASSWORD) -> None:
    """Wait until the container's Redis answers PING with ``password`` (it listens a moment after the container starts)."""
    with anyio.fail_after(timeout):
        while (await provider.exec("cache", ["redis-cli", "-a", password, "--no-auth-warning", "ping"])).output.strip() != "PONG":
            await anyio.sleep(0.2)


async def test_available_answers_and_a_dead_socket_does_not(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    assert await DockerProvider.available() is True
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert await DockerProvider.available() is False


async def test_ensure_creates_a_labelled_container_on_localhost_ports(sandbox: Sandbox, provider: DockerProvider) -> None:
    port = free_port()
    sandbox.write(postgres_toml(port))
    svc = sandbox.service("db")

    state = await provider.ensure(sandbox.spec(svc))

    assert state.status == "running"
    assert state.ports == {"main": port}
    assert state.spec_hash == svc.spec_hash
    assert state.provider == "docker" and state.image == "omnitron-test/postgres:15"
    container = inspect("container", state.container_id)
    assert container["Name"] == f"/omnitron-{sandbox.name}-dev-db"
    labels = container["Config"]["Labels"]
    assert labels["omnitron.managed"] == "true"
    assert labels["omnitron.project"] == sandbox.name
    assert labels["omnitron.stack"] == "dev"
    assert labels["omnitron.service"] == "db"
    assert labels["omnitron.spec-hash"] == svc.spec_hash
    # published on 127.0.0.1 only, as configured and as actually bound
    assert container["HostConfig"]["PortBindings"] == {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert {b["HostIp"] for b in container["NetworkSettings"]["Ports"]["5432/tcp"]} == {"127.0.0.1"}
    # the named volume: namespaced, labelled, mounted at the image's data directory
    volume = f"omnitron-{sandbox.name}-dev-db-data"
    assert by_label("volume", sandbox.name) == [volume]
    vol_labels = inspect("volume", volume)["Labels"]
    assert vol_labels["omnitron.service"] == "db" and vol_labels["omnitron.volume"] == "data" and vol_labels["omnitron.stack"] == "dev"
    assert [(m["Type"], m["Name"], m["Destination"]) for m in container["Mounts"]] == [("volume", volume, "/var/lib/postgresql/data")]
    # the project network, labelled, with the service name as alias
    network = f"omnitron-{sandbox.name}-dev"
    assert by_label("network", sandbox.name) == [network]
    assert inspect("network", network)["Labels"]["omnitron.project"] == sandbox.name
    assert "db" in container["NetworkSettings"]["Networks"][network]["Aliases"]
    assert [phase for service, phase, _ in sandbox.events if service == "db"] == ["creating", "starting"]
    # the rendered password is the container's: a client gets in with it
    async with await connect_postgres(port) as conn:
        assert (await (await conn.execute("select 1")).fetchone()) == (1,)


async def test_second_ensure_changes_nothing(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    spec = sandbox.spec("cache")
    first = await provider.ensure(spec)
    events = len(sandbox.events)

    again = await provider.ensure(sandbox.spec("cache"))

    assert again.container_id == first.container_id
    assert again.started_at == first.started_at
    assert again.status == "running"
    assert len(sandbox.events) == events  # no pull, create or start reported
    assert by_label("container", sandbox.name) == [f"omnitron-{sandbox.name}-dev-cache"]


async def test_changed_spec_recreates_that_service_alone_and_volume_data_survives(sandbox: Sandbox, provider: DockerProvider) -> None:
    db_port, cache_port = free_port(), free_port()
    sandbox.write(postgres_toml(db_port) + redis_toml(cache_port))
    db1 = await provider.ensure(sandbox.spec("db"))
    cache1 = await provider.ensure(sandbox.spec("cache"))
    async with await connect_postgres(db_port) as conn:
        await conn.execute("create table kept (v text)")
        await conn.execute("insert into kept values ('still here')")

    sandbox.write(postgres_toml(db_port, settings='max_connections = "42"') + redis_toml(cache_port))
    plan = sandbox.plan()
    assert plan.service("db").spec_hash != db1.spec_hash
    db2 = await provider.ensure(sandbox.spec(plan.service("db")))
    cache2 = await provider.ensure(sandbox.spec(plan.service("cache")))

    assert db2.container_id != db1.container_id
    assert db2.spec_hash == plan.service("db").spec_hash
    assert cache2.container_id == cache1.container_id
    assert any(s == "db" and p == "creating" and "volumes are kept" in d for s, p, d in sandbox.events)
    assert by_label("container", sandbox.name) == [f"omnitron-{sandbox.name}-dev-cache", f"omnitron-{sandbox.name}-dev-db"]
    async with await connect_postgres(db_port) as conn:
        assert (await (await conn.execute("select v from kept")).fetchall()) == [("still here",)]
        assert (await (await conn.execute("show max_connections")).fetchone()) == ("42",)


async def test_a_rotated_secret_recreates_the_container(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    first = await provider.ensure(sandbox.spec("cache", password="old-password"))
    second = await provider.ensure(sandbox.spec("cache", password="new-password"))
    assert second.container_id != first.container_id
    assert second.spec_hash == first.spec_hash  # the plan did not change, the rendered command did
    await redis_answers(provider, password="new-password")
    refused = await provider.exec("cache", ["redis-cli", "-a", "old-password", "--no-auth-warning", "ping"], timeout=20)
    assert "PONG" not in refused.output


async def test_a_stopped_container_is_started_again(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    first = await provider.ensure(sandbox.spec("cache"))
    await redis_answers(provider)  # the server, not the entrypoint script, must get the stop signal
    await provider.stop("cache")
    assert (await provider.list_managed())["cache"].status == "exited"

    again = await provider.ensure(sandbox.spec("cache"))

    assert again.container_id == first.container_id
    assert again.status == "running"


async def test_config_on_stdin_is_fed_at_every_start_and_a_start_by_hand_is_redone(sandbox: Sandbox) -> None:
    """``redis-server -`` reads its whole config (password included) on stdin, which only the provider's start feeds:
    it is in no ``Cmd`` and no env. A ``docker restart`` by hand leaves a server waiting for that config (it never
    listens); the next ``ensure`` sees the start was not its own, restarts it and feeds it again."""
    from omnitron.api import StateStore

    sandbox.write(redis_toml(free_port()))
    with StateStore(sandbox.root / ".omnitron") as state:
        ctx = sandbox.context()
        ctx.state = state
        async with DockerProvider(ctx) as provider:
            spec = sandbox.spec("cache")
            assert spec.stdin is not None and PASSWORD.encode() in spec.stdin
            first = await provider.ensure(spec)
            await redis_answers(provider)
            container = inspect("container", first.container_id)
            assert PASSWORD not in json.dumps([container["Config"]["Cmd"], container["Args"], container["Config"]["Env"]])

            assert await provider.ensure(sandbox.spec("cache")) == first  # its own start: nothing to redo
            docker_cli("restart", "-t", "1", first.container_id)
            with anyio.fail_after(20):
                while "Reading config from stdin" not in docker_cli("logs", "--since", inspect("container", first.container_id)["State"]["StartedAt"], first.container_id, check=False):
                    await anyio.sleep(0.2)
            waiting = await provider.exec("cache", ["redis-cli", "-a", PASSWORD, "--no-auth-warning", "ping"], timeout=20)
            assert waiting.output.strip() != "PONG", waiting.output  # no config: nothing listens

            again = await provider.ensure(sandbox.spec("cache"))
            assert again.container_id == first.container_id and again.started_at != first.started_at
            assert any(p == "starting" and "started outside omnitron" in d for s, p, d in sandbox.events if s == "cache")
            await redis_answers(provider)


async def test_exec_runs_in_the_container(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    await provider.ensure(sandbox.spec("cache"))
    await redis_answers(provider)

    ping = await provider.exec("cache", ["redis-cli", "-a", PASSWORD, "--no-auth-warning", "ping"], timeout=20)
    assert (ping.exit_code, ping.output.strip()) == (0, "PONG")
    both = await provider.exec("cache", ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"], timeout=20)
    assert both.exit_code == 3
    assert "to-out" in both.output and "to-err" in both.output
    with pytest.raises(TimeoutError):
        await provider.exec("cache", ["sleep", "5"], timeout=0.5)
    with pytest.raises(ProvisionError, match="service nothing: no container"):
        await provider.exec("nothing", ["true"])


async def test_logs_tail_and_follow(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(TICKER)
    await provider.ensure(sandbox.spec("ticker"))

    tail: list[str] = []
    with anyio.fail_after(20):
        while len(tail) < 3:
            await anyio.sleep(0.3)
            tail = [line async for line in provider.logs("ticker", tail=3)]
    assert len(tail) == 3 and all(line.startswith("tick-") for line in tail)
    last_seen = int(tail[-1].removeprefix("tick-"))

    followed: list[str] = []
    with anyio.fail_after(20):
        async for line in provider.logs("ticker", follow=True, tail=0):
            followed.append(line)
            if len(followed) == 3:
                break
    numbers = [int(line.removeprefix("tick-")) for line in followed]
    assert numbers == sorted(numbers) and numbers[0] > last_seen


async def test_a_container_with_our_name_but_not_our_labels_is_never_touched(sandbox: Sandbox, provider: DockerProvider) -> None:
    name = f"omnitron-{sandbox.name}-dev-db"
    foreign_id = docker_cli("run", "-d", "--name", name, BASE_IMAGE, "sleep", "infinity").strip()
    try:
        sandbox.write(postgres_toml(free_port()))
        with pytest.raises(ProvisionError, match=f"a container named {name} exists and is not managed by omnitron"):
            await provider.ensure(sandbox.spec("db"))
        assert await provider.list_managed() == {}
        await provider.stop("db")
        await provider.remove("db", volumes=True)
        await provider.remove_all_data()
        foreign = inspect("container", name)
        assert foreign["Id"] == foreign_id
        assert foreign["State"]["Status"] == "running"
        assert by_label("volume", sandbox.name) == []  # nothing was created before the refusal
    finally:
        docker_cli("rm", "-f", name, check=False)


async def test_check_ports_reports_a_taken_port_before_anything_starts(sandbox: Sandbox, provider: DockerProvider) -> None:
    taken, free = free_port(), free_port()
    sandbox.write(postgres_toml(taken) + redis_toml(free))
    listener = socket.socket()
    listener.bind(("127.0.0.1", taken))
    listener.listen()
    try:
        problems = await provider.check_ports(sandbox.plan().services)
    finally:
        listener.close()
    assert problems == [
        f"port {taken} (service db) is already in use by {problems[0].split('in use by ')[1].split(':')[0]}: set portOffsets in the stack or free the port"
    ]
    assert f"pid {os.getpid()} (" in problems[0]
    assert by_label("container", sandbox.name) == []
    assert await provider.check_ports(sandbox.plan().services) == []


async def test_check_ports_accepts_our_own_container_and_names_a_foreign_one(sandbox: Sandbox, provider: DockerProvider) -> None:
    port, squatted = free_port(), free_port()
    sandbox.write(redis_toml(port))
    await provider.ensure(sandbox.spec("cache"))
    assert await provider.check_ports(sandbox.plan().services) == []

    squatter = f"{sandbox.name}-squatter"
    docker_cli("run", "-d", "--name", squatter, "-p", f"127.0.0.1:{squatted}:80", BASE_IMAGE, "sleep", "infinity")
    try:
        sandbox.write(redis_toml(squatted))
        problems = await provider.check_ports(sandbox.plan().services)
    finally:
        docker_cli("rm", "-f", squatter, check=False)
    assert problems == [f"port {squatted} (service cache) is already in use by container {squatter}: set portOffsets in the stack or free the port"]


async def test_remove_keeps_volumes_unless_asked(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    volume = f"omnitron-{sandbox.name}-dev-cache-data"
    await provider.ensure(sandbox.spec("cache"))
    docker_cli("exec", f"omnitron-{sandbox.name}-dev-cache", "sh", "-c", "echo kept > /data/marker")

    await provider.remove("cache")
    assert by_label("container", sandbox.name) == []
    assert by_label("volume", sandbox.name) == [volume]
    assert by_label("network", sandbox.name) == []  # nothing of the stack left on it
    await provider.ensure(sandbox.spec("cache"))
    assert (await provider.exec("cache", ["cat", "/data/marker"], timeout=20)).output.strip() == "kept"

    await provider.remove("cache", volumes=True)
    assert by_label("container", sandbox.name) == []
    assert by_label("volume", sandbox.name) == []
    assert await provider.list_managed() == {}


async def test_remove_all_data_clears_the_stack(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()) + TICKER)
    await provider.ensure(sandbox.spec("cache"))
    await provider.ensure(sandbox.spec("ticker"))
    assert sorted(await provider.list_managed()) == ["cache", "ticker"]

    await provider.remove_all_data()

    assert by_label("container", sandbox.name) == []
    assert by_label("volume", sandbox.name) == []
    assert by_label("network", sandbox.name) == []


async def test_other_stacks_are_invisible(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    await provider.ensure(sandbox.spec("cache"))
    async with DockerProvider(sandbox.context("staging")) as other:
        assert await other.list_managed() == {}
        await other.remove_all_data()
    assert list(await provider.list_managed()) == ["cache"]
    assert by_label("volume", sandbox.name) == [f"omnitron-{sandbox.name}-dev-cache-data"]


async def test_a_missing_image_that_cannot_be_pulled_fails_clearly(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write('[infrastructure.services.gone]\ndocker = {image = "omnitron-test/absent:0"}\n')
    with pytest.raises(ProvisionError, match="image omnitron-test/absent:0 is not present locally and pulling it failed"):
        await provider.ensure(sandbox.spec("gone"))
    assert ("gone", "pulling") in [(s, p) for s, p, _ in sandbox.events]
    assert by_label("container", sandbox.name) == []


async def test_docker_options_reach_the_container(sandbox: Sandbox, provider: DockerProvider) -> None:
    conf = sandbox.root / "conf"
    conf.mkdir()
    conf.chmod(0o777)  # writable by anyone: only the read-only mount may stop the write below
    (conf / "app.conf").write_text("setting = 1\n")
    (conf / "app.conf").chmod(0o666)
    sandbox.write(
        f"""
[infrastructure.services.tool]
[infrastructure.services.tool.docker]
image = "{BASE_IMAGE}"
command = ["sleep", "infinity"]
user = "65534"
labels = {{team = "qa"}}
volumes = [{{source = "./conf", target = "/conf", readOnly = true}}]
capabilities = {{add = ["NET_ADMIN"], drop = ["MKNOD"]}}
resources = {{memory = "64m", cpus = 0.5}}
healthCheck = {{test = ["true"], interval = "1s", retries = 2}}
network = {{aliases = ["toolbox"]}}
"""
    )
    state = await provider.ensure(sandbox.spec("tool"))
    container = inspect("container", state.container_id)
    host = container["HostConfig"]
    assert container["Config"]["User"] == "65534"
    assert container["Config"]["Labels"]["team"] == "qa"
    assert host["Memory"] == 64 * 1024**2 and host["NanoCpus"] == 500_000_000
    assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["MKNOD"]
    assert [(m["Source"], m["Destination"], m["RW"]) for m in container["Mounts"]] == [(str(conf), "/conf", False)]
    assert "toolbox" in container["NetworkSettings"]["Networks"][f"omnitron-{sandbox.name}-dev"]["Aliases"]
    assert (await provider.exec("tool", ["cat", "/conf/app.conf"], timeout=20)).output == "setting = 1\n"
    assert (await provider.exec("tool", ["id", "-u"], timeout=20)).output.strip() == "65534"
    write = await provider.exec("tool", ["sh", "-c", "echo x >> /conf/app.conf"], timeout=20)
    assert write.exit_code != 0 and "Read-only file system" in write.output
    assert (conf / "app.conf").read_text() == "setting = 1\n"
    health = state.health
    with anyio.fail_after(30):
        while health != "healthy":
            await anyio.sleep(0.5)
            health = (await provider.list_managed())["tool"].health
    assert health == "healthy"


async def test_parallel_ensures_share_one_network(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(postgres_toml(free_port()) + redis_toml(free_port()) + TICKER)
    plan = sandbox.plan()
    states = {}

    async def ensure(name: str) -> None:
        states[name] = await provider.ensure(sandbox.spec(plan.service(name)))

    async with anyio.create_task_group() as tg:
        for svc in plan.services:
            tg.start_soon(ensure, svc.name)

    assert {name: state.status for name, state in states.items()} == {"cache": "running", "db": "running", "ticker": "running"}
    assert by_label("network", sandbox.name) == [f"omnitron-{sandbox.name}-dev"]
    assert sorted(await provider.list_managed()) == ["cache", "db", "ticker"]


async def test_begin_up_makes_the_stack_network_before_any_container_and_ensure_joins_it(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()) + TICKER)
    plan = sandbox.plan()
    network = f"omnitron-{sandbox.name}-dev"
    await provider.begin_up(plan.services)
    assert by_label("network", sandbox.name) == [network]
    assert by_label("container", sandbox.name) == []  # nothing started by it
    made = inspect("network", network)["Id"]
    await provider.begin_up(plan.services)  # again: found, not made twice
    for svc in plan.services:
        await provider.ensure(sandbox.spec(svc))
    assert by_label("network", sandbox.name) == [network]
    for name in by_label("container", sandbox.name):
        assert inspect("container", name)["NetworkSettings"]["Networks"][network]["NetworkID"] == made


async def test_begin_up_refuses_a_network_named_like_ours_and_changes_nothing(sandbox: Sandbox) -> None:
    network = f"omnitron-{sandbox.name}-dev"
    sandbox.write(redis_toml(free_port()))
    docker_cli("network", "create", network)
    try:
        async with DockerProvider(sandbox.context()) as fresh:
            with pytest.raises(ProvisionError, match=f"a network named {network} exists and is not managed by omnitron"):
                await fresh.begin_up(sandbox.plan().services)
        assert inspect("network", network)["Labels"] == {}
        assert by_label("container", sandbox.name) == []
    finally:
        docker_cli("network", "rm", network, check=False)


async def test_a_network_or_volume_named_like_ours_but_not_ours_is_refused(sandbox: Sandbox, provider: DockerProvider) -> None:
    network, volume = f"omnitron-{sandbox.name}-dev", f"omnitron-{sandbox.name}-dev-cache-data"
    sandbox.write(redis_toml(free_port()))
    docker_cli("volume", "create", volume)
    try:
        with pytest.raises(ProvisionError, match=f"a volume named {volume} exists and is not managed by omnitron"):
            await provider.ensure(sandbox.spec("cache"))
        docker_cli("volume", "rm", volume)
        # ours, if made before the refusal (network, volumes and name are looked up at once): the next step replaces it
        docker_cli("network", "rm", network, check=False)
        docker_cli("network", "create", network)
        async with DockerProvider(sandbox.context()) as fresh:
            with pytest.raises(ProvisionError, match=f"a network named {network} exists and is not managed by omnitron"):
                await fresh.ensure(sandbox.spec("cache"))
            await fresh.remove_all_data()
        assert inspect("network", network)["Labels"] == {}
        assert by_label("container", sandbox.name) == []
    finally:
        docker_cli("network", "rm", network, check=False)
        docker_cli("volume", "rm", volume, check=False)


async def test_a_container_on_the_host_network_listens_on_its_planned_port_and_keeps_it(sandbox: Sandbox, provider: DockerProvider) -> None:
    port = free_port()
    listen = f'$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:{port}", Listen => 5, ReuseAddr => 1) or die "$!"; $SIG{{TERM}} = sub {{ exit 0 }}; sleep 1 while 1'
    sandbox.write(f"""
[infrastructure.services.echo]
ports = {{main = {port}}}
docker = {{image = "{BASE_IMAGE}", network = {{name = "host"}}, command = ["perl", "-MIO::Socket::INET", "-e", {listen!r}]}}
""")
    state = await provider.ensure(sandbox.spec("echo"))
    assert state.status == "running" and state.ports == {"main": port}
    data = inspect("container", state.container_id)
    assert data["HostConfig"]["NetworkMode"] == "host" and not data["HostConfig"]["PortBindings"]
    with anyio.fail_after(20):
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await anyio.sleep(0.1)
    # the container's own process holds the port: not a collision
    assert await provider.check_ports(sandbox.plan().services) == []
