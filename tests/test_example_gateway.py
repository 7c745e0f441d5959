"""examples/gateway end to end through the real CLI, natively and in Docker: two apps behind the gateway,
the Lua map, and the rate limit counted in the gateway's own Redis DB.

The example is copied with its own project name and port offset (and, under Docker, the local images);
everything else is the example as written.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from omnitron.testing import CliProject, free_port_offset, unavailable

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gateway"
IMAGES = {"gateway": "omnitron-test/openresty:1.27", "cache": "omnitron-test/redis:7"}

pytestmark = [pytest.mark.installed_plugins, pytest.mark.slow]


class Example(CliProject):
    def __init__(self, provider: str) -> None:
        super().__init__("gwex")
        shutil.copytree(EXAMPLE / "apps", self.root / "apps")
        shutil.copytree(EXAMPLE / "infra", self.root / "infra")
        eco = dict(runpy.run_path(str(EXAMPLE / "omnitron.config.py"))["ecosystem"])
        eco.pop("project")
        self.offset = free_port_offset([6379, 8080], lowest=2000)  # below the ephemeral range, where an outgoing connection could hold it
        eco["stacks"] = {"dev": {"provider": provider, "portOffsets": self.offset}}
        if provider == "docker":
            for name, image in IMAGES.items():
                eco["infrastructure"]["services"][name].setdefault("config", {})["image"] = image
        self.write_ecosystem(eco)
        self.url = f"http://127.0.0.1:{8080 + self.offset}"
        self.apps: list[subprocess.Popen] = []

    def run(self, app: str) -> None:
        self.apps.append(subprocess.Popen([self.executable, "run", app], env=self.env, cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait(self, path: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, body = self.get(path)
                if status == 200:
                    return body
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"GET {path} never answered 200")

    def cleanup(self) -> None:
        for proc in self.apps:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait(30)
        super().cleanup()


@pytest.fixture(params=["process", "docker"])
def example(request):
    if request.param == "process" and not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx") or shutil.which("openresty")):
        unavailable("nginx is not installed (apt-get install nginx-light libnginx-mod-http-lua)")
    if request.param == "process" and not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")):
        unavailable("redis-server is not installed")
    if request.param == "docker":
        for image in IMAGES.values():
            if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
                unavailable(f"no Docker engine with the image {image} (bash .ci/build-images.sh)")
    e = Example(request.param)
    yield e
    e.cleanup()


def test_the_gateway_example_routes_both_apps_and_rate_limits_in_its_own_redis_db(example):
    example.ok("infra", "up")
    example.run("orders")
    example.run("inventory")
    orders = json.loads(example.wait("/orders/"))
    assert orders["app"] == "orders" and orders["gateway"] == example.url
    assert json.loads(example.wait("/inventory/"))["items"][0]["sku"] == "tea"
    env = json.loads(example.ok("infra", "env", "orders", "--format", "json", "--show-secrets"))
    assert example.get("/whereis?name=orders") == (200, f"127.0.0.1:{env['PORT']}\n")
    statuses = [example.get("/orders/")[0] for _ in range(205)]
    assert set(statuses) == {200, 429} and statuses.index(429) <= 101
    # the counters are in the gateway's own DB, never in the one orders got
    import redis

    url = env["REDIS_URL"]
    orders_db = int(url.rsplit("/", 1)[1])
    counted = []
    for db in range(16):
        client = redis.Redis.from_url(url.rsplit("/", 1)[0] + f"/{db}")
        if client.keys("ratelimit:*"):
            counted.append(db)
        if db == orders_db:
            assert int(client.get("orders:served")) > 0 and not client.keys("ratelimit:*")
        client.close()
    assert len(counted) == 1 and counted[0] != orders_db
    assert "upstream orders {" in example.ok("infra", "gateway", "show")
