"""Redis keeps acknowledged writes: ``appendonly yes`` with ``appendfsync everysec`` by default, on both providers.

Keys are written while the server is killed with SIGKILL; after the next ``up`` every key acknowledged more
than one second before the kill is still there.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis

from harden_testlib import Project
from shop_project import docker, labelled

pytestmark = pytest.mark.installed_plugins


def kill_redis(p: Project) -> None:
    if p.provider == "process":
        from omnitron.state import StateStore

        with StateStore(p.root / ".omnitron") as state:
            rec = state.get_record("dev", "process", "cache")
        os.killpg(rec["pgid"], signal.SIGKILL)
    else:
        name = next(n for n in labelled("container", p.name) if "cache" in n)
        docker("kill", "-s", "KILL", name)


def test_acknowledged_writes_survive_a_sigkill(project):
    project.ok("infra", "up")
    url = project.web_env()["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_timeout=5)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    acked: list[tuple[int, float]] = []
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            try:
                client.set(f"k{i}", i)
            except redis.RedisError:
                return
            acked.append((i, time.monotonic()))
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(3.0)
    killed_at = time.monotonic()
    kill_redis(project)
    stop.set()
    writer.join(10)
    client.close()
    due = [i for i, at in acked if at < killed_at - 1.0]
    assert len(due) > 100, len(due)
    project.ok("infra", "up")
    with redis.Redis.from_url(url, socket_timeout=5) as again:
        values = again.mget([f"k{i}" for i in due])
        kept_in_all = sum(1 for v in again.mget([f"k{i}" for i, _ in acked]) if v is not None)
    kept = sum(1 for v in values if v is not None)
    print(
        f"redis ({project.provider}): {kept} of {len(due)} keys acknowledged >1s before the SIGKILL kept "
        f"({kept_in_all} of all {len(acked)} acknowledged, the last second's included)"
    )
    assert kept == len(due)


def test_durability_is_configurable(tmp_path):
    from omnitron_redis.config import RedisConfig, server_conf

    assert 'appendonly "yes"\nappendfsync "everysec"\n' in server_conf(RedisConfig())
    assert 'appendonly "no"' in server_conf(RedisConfig.model_validate({"appendonly": False}))
    assert 'appendfsync "always"' in server_conf(RedisConfig.model_validate({"appendfsync": "always"}))
