"""A cluster stack on a real single-node swarm: the same declarations as a local stack, run as Swarm services.

One project is brought up once for the module (tests run in order: the last
one takes it down); everything is checked the way a user would see it, with
the omnitron CLI and the docker CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omnitron.testing import free_port
from swarm_testlib import docker, leftovers, omnitron, remove_project, running_containers, service_inspect, wait_until, write_project

pytestmark = pytest.mark.swarm
STACK = "cluster"


@dataclass
class Cluster:
    root: Path
    name: str
    env: dict[str, str]
    pg_port: int
    redis_port: int

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return omnitron(self.root, *args, env=self.env, check=check)

    def json(self, *args: str) -> dict:
        return json.loads(self.cli(*args, "--stack", STACK, "--json").stdout)

    def secret(self, service: str) -> str:
        return self.cli("secret", "get", f"{self.name}/{STACK}/{service}/password").stdout.strip()

    def app_env(self, app: str) -> dict[str, str]:
        return json.loads(self.cli("infra", "env", app, "--stack", STACK, "--show-secrets", "--format", "json").stdout)


@pytest.fixture(scope="module")
def cluster(swarm: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    name = f"sw{uuid.uuid4().hex[:8]}"
    env = {"OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(tmp_path_factory.mktemp("config"))}
    box = Cluster(root, name, env, free_port(), free_port())
    write_project(root, name, pg_port=box.pg_port, redis_port=box.redis_port)
    try:
        up = box.cli("infra", "up", "--stack", STACK, "--json")
        assert json.loads(up.stdout)["ok"], up.stdout
        yield box
    finally:
        box.cli("infra", "down", "--stack", STACK, "--volumes", check=False)
        remove_project(name)


def test_postgres_and_redis_run_as_healthy_swarm_services(cluster: Cluster) -> None:
    from omnitron_provider_swarm.mesh import default_routing

    status = cluster.json("infra", "status")
    services = status["services"]
    for name, port in (("db", cluster.pg_port), ("cache", cluster.redis_port)):
        assert services[name]["provider"] == "swarm"
        assert services[name]["status"] == "running"
        assert services[name]["ports"] == {"main": port}
        # Swarm's own health check (translated from the preset's probe) reports the task healthy
        wait_until(lambda n=name: cluster.json("infra", "status")["services"][n]["health"] == "healthy", what=f"{name} healthy")
        spec = service_inspect(cluster.name, STACK, name)["Spec"]
        labels = spec["Labels"]
        assert labels["omnitron.project"] == cluster.name and labels["omnitron.stack"] == STACK and labels["omnitron.service"] == name
        assert labels["omnitron.spec-hash"] == services[name]["specHash"]
        assert spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL")
        routing = default_routing()
        assert spec["EndpointSpec"]["Mode"] == routing.endpoint_mode
        assert {p["PublishMode"] for p in spec["EndpointSpec"]["Ports"]} == {routing.publish_mode}
        network = spec["TaskTemplate"]["Networks"][0]
        assert network["Aliases"] == [name]
    net = json.loads(docker("network", "inspect", network["Target"]))[0]
    assert net["Driver"] == "overlay" and net["Attachable"] is True and net["Labels"]["omnitron.project"] == cluster.name


def test_a_second_up_changes_nothing(cluster: Cluster) -> None:
    before = {n: service_inspect(cluster.name, STACK, n)["Version"]["Index"] for n in ("db", "cache")}
    cluster.cli("infra", "up", "--stack", STACK)
    assert {n: service_inspect(cluster.name, STACK, n)["Version"]["Index"] for n in ("db", "cache")} == before


def test_two_apps_get_their_own_database_and_redis_index(cluster: Cluster) -> None:
    import psycopg
    import redis

    orders, inventory = cluster.app_env("orders"), cluster.app_env("inventory")
    assert orders["DATABASE_URL"] != inventory["DATABASE_URL"]
    with psycopg.connect(orders["DATABASE_URL"]) as a, psycopg.connect(inventory["DATABASE_URL"]) as b:
        assert a.execute("SELECT current_database()").fetchone() == ("orders",)
        assert b.execute("SELECT current_database()").fetchone() == ("inventory",)
    ra, rb = redis.Redis.from_url(orders["REDIS_URL"]), redis.Redis.from_url(inventory["REDIS_URL"])
    try:
        assert ra.connection_pool.connection_kwargs["db"] != rb.connection_pool.connection_kwargs["db"]
        ra.set("owner", "orders")
        assert rb.get("owner") is None and ra.get("owner") == b"orders"
    finally:
        ra.close()
        rb.close()


def test_omnitron_run_on_the_node_reaches_the_services(cluster: Cluster) -> None:
    code = (
        "import os, psycopg, redis; "
        "print(psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT 1').fetchone()[0], "
        "redis.Redis.from_url(os.environ['REDIS_URL']).ping())"
    )
    import sys

    out = cluster.cli("run", "orders", "--stack", STACK, "--", sys.executable, "-c", code).stdout
    assert out.strip().splitlines()[-1] == "1 True"


def test_secrets_are_files_in_the_task_and_nowhere_in_a_spec(cluster: Cluster) -> None:
    from omnitron_redis.config import quote

    pg_password, redis_password = cluster.secret("db"), cluster.secret("cache")
    assert len(pg_password) >= 32 and len(redis_password) >= 32
    for name in ("db", "cache"):
        inspected = json.dumps(service_inspect(cluster.name, STACK, name))
        assert pg_password not in inspected and redis_password not in inspected
        (container,) = running_containers(cluster.name, name)
        config = docker("inspect", container)
        assert pg_password not in config and redis_password not in config
    db = service_inspect(cluster.name, STACK, "db")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert "POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password" in db["Env"]
    assert not any(e.startswith("POSTGRES_PASSWORD=") for e in db["Env"])
    (pg,) = running_containers(cluster.name, "db")
    assert docker("exec", pg, "cat", "/run/secrets/postgres-password") == pg_password
    cache = service_inspect(cluster.name, STACK, "cache")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert cache["Args"][:2] == ["redis-server", "/run/secrets/redis.conf"] and "--requirepass" not in cache["Args"]
    (rd,) = running_containers(cluster.name, "cache")
    assert docker("exec", rd, "cat", "/run/secrets/redis.conf") == f"requirepass {quote(redis_password)}\n"
    secrets = json.loads(docker("secret", "inspect", *[s["SecretID"] for s in db["Secrets"] + cache["Secrets"]]))
    assert all("Data" not in s["Spec"] and s["Spec"]["Labels"]["omnitron.project"] == cluster.name for s in secrets)


def test_a_killed_task_is_replaced(cluster: Cluster) -> None:
    import redis

    (old,) = running_containers(cluster.name, "cache")
    docker("kill", old)
    new = wait_until(lambda: [c for c in running_containers(cluster.name, "cache") if c != old], what="a replacement task")
    assert new and old not in new
    url = cluster.app_env("orders")["REDIS_URL"]
    wait_until(lambda: _pings(redis, url), what="redis answering again")


def _pings(redis, url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def test_logs_come_from_the_service_tasks(cluster: Cluster) -> None:
    out = cluster.cli("infra", "logs", "db", "--stack", STACK, "-n", "50").stdout
    assert "ready to accept connections" in out


def test_a_changed_spec_rolls_out_and_data_survives(cluster: Cluster) -> None:
    import redis

    import psycopg

    url = cluster.app_env("orders")["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (v int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    db_before = service_inspect(cluster.name, STACK, "db")["Version"]["Index"]
    before = service_inspect(cluster.name, STACK, "cache")["Spec"]["Labels"]["omnitron.spec-hash"]
    write_project(cluster.root, cluster.name, pg_port=cluster.pg_port, redis_port=cluster.redis_port, maxmemory="32mb")
    cluster.cli("infra", "up", "--stack", STACK)
    service = wait_until(lambda: _updated(cluster), what="the rolling update to complete")
    assert service["Spec"]["Labels"]["omnitron.spec-hash"] != before
    assert "32mb" in service["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"]
    client = redis.Redis.from_url(cluster.app_env("orders")["REDIS_URL"])
    try:
        assert client.config_get("maxmemory") == {"maxmemory": str(32 * 1024 * 1024)}
    finally:
        client.close()
    assert service_inspect(cluster.name, STACK, "db")["Version"]["Index"] == db_before
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [(7,)]


def _updated(cluster: Cluster) -> dict | None:
    service = service_inspect(cluster.name, STACK, "cache")
    return service if service.get("UpdateStatus", {}).get("State") == "completed" else None


def test_down_keeps_the_volumes_and_up_finds_the_data_again(cluster: Cluster) -> None:
    import psycopg

    cluster.cli("infra", "down", "--stack", STACK)
    left = leftovers(cluster.name)
    assert "service" not in left and "secret" not in left and "network" not in left, left
    assert len(left["volume"]) == 2, left  # db's and cache's data
    assert {n: s["status"] for n, s in cluster.json("infra", "status")["services"].items()} == {"db": "not_found", "cache": "not_found"}
    cluster.cli("infra", "up", "--stack", STACK)
    with psycopg.connect(cluster.app_env("orders")["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [(7,)]


def test_reset_destroys_the_data_and_brings_the_stack_back(cluster: Cluster) -> None:
    import psycopg

    cluster.cli("infra", "reset", "--yes", "--stack", STACK)
    with psycopg.connect(cluster.app_env("orders")["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT to_regclass('kept')").fetchone() == (None,)
    assert cluster.json("infra", "status")["services"]["db"]["status"] == "running"


def test_down_with_volumes_leaves_nothing_behind(cluster: Cluster) -> None:
    cluster.cli("infra", "down", "--stack", STACK, "--volumes")
    assert leftovers(cluster.name) == {}
    assert {n: s["status"] for n, s in cluster.json("infra", "status")["services"].items()} == {"db": "not_found", "cache": "not_found"}
