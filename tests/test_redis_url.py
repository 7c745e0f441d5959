"""``REDIS_URL`` is ``redis://default:PASSWORD@HOST:PORT/DB``: both redis-cli (Debian's redis-tools) and redis-py accept it.

The ``redis://:PASSWORD@`` form redis-py takes makes ``redis-cli -u`` fail with WRONGPASS.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis

from omnitron.testing import unavailable

pytestmark = pytest.mark.installed_plugins


def test_redis_cli_and_redis_py_both_take_the_url(project):
    cli = shutil.which("redis-cli")
    if cli is None:
        unavailable("redis-cli (apt-get install redis-tools)")
    project.ok("infra", "up")
    url = project.web_env()["REDIS_URL"]
    assert url.startswith("redis://default:")
    db = url.rsplit("/", 1)[1]
    out = subprocess.run([cli, "-u", url, "SET", "from-cli", "1"], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "OK", out.stdout + out.stderr
    with redis.Redis.from_url(url, socket_timeout=5) as client:
        assert client.get("from-cli") == b"1"
        assert client.connection_pool.connection_kwargs["db"] == int(db)
        client.set("from-py", "2")
    out = subprocess.run([cli, "-u", url, "GET", "from-py"], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "2", out.stdout + out.stderr
    printed = project.ok("infra", "redis-cli", "--print-url").strip()
    assert printed.startswith("redis://default:")
