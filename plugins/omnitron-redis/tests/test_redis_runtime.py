"""The redis preset at run time: DB indexes per app, against a real Redis server.

The server is started from the machine's ``redis-server`` and reached through
the ``external`` provider (stack override). Its password is put in the secret
store under the key the preset's generated credential uses.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from omnitron.testing import app_env, backend_for, Session, unavailable, up

from omnitron.api import ProvisionError, StateStore
from omnitron_test_servers import ServerUnavailable, start_redis

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.anyio


def _start(**kwargs):
    try:
        return start_redis(**kwargs)
    except ServerUnavailable as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def server():
    srv = _start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch, omnitron_isolated):
    monkeypatch.setenv("OMNITRON_PLUGINS", "redis")


def redis_project(factory, srv, apps, *, config=None, offset=0):
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"cache": {"preset": "redis", "config": config or {}}}},
        "stacks": {"dev": {"redisDbOffset": offset, "serviceOverrides": {"cache": {"external": {"host": srv.host, "ports": {"main": srv.port}}}}}},
    }
    project = factory.write(eco, apps)
    backend_for(project).set("shop/dev/cache/password", srv.password)
    return project


async def urls(project, *apps):
    async with Session(project, project.plan()) as session:
        return [app_env(session, a)["REDIS_URL"] for a in apps]


async def test_each_app_gets_its_own_db_index(omnitron_project, server):
    project = redis_project(omnitron_project, server, {"web": {"redis": True}, "worker": {"redis": True}})
    result = await up(project, project.plan())
    assert result.services["cache"].allocations == {"web": {"db": "0"}, "worker": {"db": "1"}}
    web, worker = await urls(project, "web", "worker")
    assert web.endswith("/0") and worker.endswith("/1")
    key = f"k-{uuid.uuid4().hex}"
    redis.Redis.from_url(web).set(key, "mine")
    assert redis.Redis.from_url(web).get(key) == b"mine"
    assert redis.Redis.from_url(worker).get(key) is None


async def test_indexes_are_stable_and_a_new_app_gets_the_next_free_one(omnitron_project, server):
    project = redis_project(omnitron_project, server, {"web": {"redis": True}, "worker": {"redis": True}})
    await up(project, project.plan())
    before = await urls(project, "web", "worker")
    await up(project, project.plan())
    assert await urls(project, "web", "worker") == before
    project = redis_project(omnitron_project, server, {"web": {"redis": True}, "worker": {"redis": True}, "admin": {"redis": True}})
    await up(project, project.plan())
    assert await urls(project, "web", "worker") == before
    (admin,) = await urls(project, "admin")
    assert admin.endswith("/2")


async def test_reserved_indexes_and_the_stack_offset_are_respected(omnitron_project, server):
    project = redis_project(omnitron_project, server, {"web": {"redis": True}}, config={"reserved": [4, 5]}, offset=4)
    await up(project, project.plan())
    with StateStore(project.state_dir) as state:
        assert state.indexes("dev", "cache") == {"web": 6}


async def test_exhausted_range_is_a_clear_error(omnitron_project, server):
    apps = {"a": {"redis": True}, "b": {"redis": True}, "c": {"redis": True}}
    project = redis_project(omnitron_project, server, apps, config={"databases": 2})
    with pytest.raises(ProvisionError, match=r"no free index left in 0\.\.1 for 'c'"):
        await up(project, project.plan())


async def test_offset_beyond_the_database_count_is_a_clear_error(omnitron_project, server):
    project = redis_project(omnitron_project, server, {"web": {"redis": True}}, config={"databases": 4}, offset=4)
    with pytest.raises(ProvisionError, match="redisDbOffset 4 leaves no DB index for web: the server has 4 databases"):
        await up(project, project.plan())


async def test_server_with_fewer_databases_than_configured_is_caught(omnitron_project):
    small = _start(databases=1)
    try:
        project = redis_project(omnitron_project, small, {"web": {"redis": True}}, offset=0, config={"reserved": [0]})
        with pytest.raises(ProvisionError, match="DB index 1 is not available on the server"):
            await up(project, project.plan())
    finally:
        small.stop()


def omnitron(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "omnitron"), *args], capture_output=True, text=True, timeout=120)


async def test_infra_redis_cli_uses_the_apps_index_and_keeps_the_password_off_the_command_line(omnitron_project, server):
    project = redis_project(omnitron_project, server, {"web": {"redis": True}, "worker": {"redis": True}})
    await up(project, project.plan())
    key = f"k-{uuid.uuid4().hex}"
    res = omnitron("infra", "redis-cli", "--app", "worker", "--project", str(project.root), "--", "SET", key, "v1")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "OK"
    assert server.password not in res.stdout + res.stderr
    assert redis.Redis(host=server.host, port=server.port, password=server.password, db=1).get(key) == b"v1"
    assert redis.Redis(host=server.host, port=server.port, password=server.password, db=0).get(key) is None
    url = omnitron("infra", "redis-cli", "--print-url", "--app", "worker", "--project", str(project.root)).stdout.strip()
    assert redis.Redis.from_url(url).get(key) == b"v1"


async def test_infra_redis_cli_app_alone_picks_the_redis_service_the_app_uses(omnitron_project, server):
    external = {"external": {"host": server.host, "ports": {"main": server.port}}}
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"cache": {"preset": "redis"}, "sessions": {"preset": "redis"}}},
        "stacks": {"dev": {"serviceOverrides": {"cache": external, "sessions": external}}},
    }
    project = omnitron_project.write(eco, {"web": {"redis": {"service": "cache"}}, "worker": {"redis": {"service": "sessions"}}})
    for name in ("cache", "sessions"):
        backend_for(project).set(f"shop/dev/{name}/password", server.password)
    await up(project, project.plan())
    url = omnitron("infra", "redis-cli", "--print-url", "--app", "worker", "--project", str(project.root))
    assert url.returncode == 0, url.stderr
    assert url.stdout.strip() == (await urls(project, "worker"))[0]
    res = omnitron("infra", "redis-cli", "--app", "nobody", "--project", str(project.root), "--", "PING")
    assert res.returncode == 2
    assert res.stderr.strip() == "omnitron: no app named 'nobody'; apps: web, worker"
