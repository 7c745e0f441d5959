"""End to end with the postgres and redis presets: ``infra up`` then ``omnitron run`` for two apps.

Real PostgreSQL and Redis servers are started from the machine's binaries and
reached through the ``external`` provider.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest

from omnitron.secrets.resolve import backend_for
from omnitron.state import StateStore
from omnitron.testing import unavailable
from omnitron_test_servers import ServerUnavailable, start_postgres, start_redis

pytestmark = pytest.mark.installed_plugins


@pytest.fixture(scope="module")
def servers():
    try:
        pg = start_postgres()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        rd = start_redis()
    except ServerUnavailable as exc:
        pg.stop()
        unavailable(str(exc))
    yield pg, rd
    pg.stop()
    rd.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch, omnitron_isolated):
    monkeypatch.setenv("OMNITRON_PLUGINS", "postgres,redis")


@pytest.fixture
def shop(omnitron_project, servers):
    pg, rd = servers
    suffix = uuid.uuid4().hex[:6]
    apps = {f"orders{suffix}": {"database": True, "redis": True}, f"billing{suffix}": {"database": True, "redis": True}}
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"db": {"preset": "postgres"}, "cache": {"preset": "redis"}}},
        "stacks": {"dev": {"serviceOverrides": {
            "db": {"external": {"host": pg.host, "ports": {"main": pg.port}}},
            "cache": {"external": {"host": rd.host, "ports": {"main": rd.port}}},
        }}},
    }
    project = omnitron_project.write(eco, apps)
    backend = backend_for(project)
    backend.set("shop/dev/db/password", pg.password)
    backend.set("shop/dev/cache/password", rd.password)
    return project, list(apps)


def omnitron(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, timeout=120)


WRITE = textwrap.dedent(
    """
    import os, psycopg, redis
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    redis.Redis.from_url(os.environ["REDIS_URL"]).set("who", "orders")
    raise SystemExit(3)
    """
)
READ = textwrap.dedent(
    """
    import os, psycopg, redis
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        visible = conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone()[0]
    key = redis.Redis.from_url(os.environ["REDIS_URL"]).get("who")
    print(visible, key)
    """
)


def test_two_apps_get_separate_databases_and_redis_indexes_through_run(shop, omnitron_cli):
    project, (orders, billing) = shop
    up = omnitron_cli("infra", "up", "--project", str(project.root), "--json")
    assert up.code == 0, up.out + up.err
    wrote = omnitron("run", orders, "--project", str(project.root), "--", sys.executable, "-c", WRITE)
    assert wrote.returncode == 3, wrote.stderr
    seen_by_billing = omnitron("run", billing, "--project", str(project.root), "--", sys.executable, "-c", READ)
    assert seen_by_billing.returncode == 0, seen_by_billing.stderr
    assert seen_by_billing.stdout.split() == ["False", "None"]
    seen_by_orders = omnitron("run", orders, "--project", str(project.root), "--", sys.executable, "-c", READ)
    assert seen_by_orders.stdout.split() == ["True", "b'orders'"]


def test_allocations_are_stable_across_runs_and_env_is_masked(shop, omnitron_cli):
    project, (orders, billing) = shop
    assert omnitron_cli("infra", "up", "--project", str(project.root)).code == 0
    with StateStore(project.state_dir) as state:
        first = state.allocations("dev")
    assert {(a["app"], a["kind"]) for a in first} == {(orders, "database"), (billing, "database"), (orders, "redis_db"), (billing, "redis_db")}
    assert omnitron_cli("infra", "up", "--project", str(project.root)).code == 0
    with StateStore(project.state_dir) as state:
        assert state.allocations("dev") == first
    env = omnitron_cli("infra", "env", orders, "--format", "dotenv", "--project", str(project.root)).out
    assert f"/{orders}'" in env and ":****@" in env
    assert omnitron_cli("infra", "reset", "--project", str(project.root)).code == 1
    with StateStore(project.state_dir) as state:
        assert state.allocations("dev") == first
