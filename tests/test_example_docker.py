"""The example ecosystem end to end on a real Docker engine, through the real CLI.

Images are the locally built test images (``.ci/build-images.sh``), which keep
the official images' contracts; only the image name is overridden.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

from omnitron.testing import unavailable

from shop_project import BASE_IMAGE, MINIO_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE, Shop, docker, labelled

pytestmark = [pytest.mark.installed_plugins, pytest.mark.docker]


@pytest.fixture(scope="module", autouse=True)
def engine():
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers: run .ci/docker-up.sh")
    for image in (POSTGRES_IMAGE, REDIS_IMAGE, MINIO_IMAGE, BASE_IMAGE):
        if not docker("images", "-q", image).strip():
            unavailable(f"test image {image} is missing: run .ci/build-images.sh")


@pytest.fixture
def shop(tmp_path):
    s = Shop(tmp_path)
    yield s
    s.cleanup()


def test_two_apps_get_their_own_database_and_redis_index(shop):
    out = shop.ok("infra", "up")
    assert "ready" in out
    assert len(labelled("container", shop.project)) == 3
    orders = shop.ok("run", "orders")
    assert "orders: database orders holds 1 order(s)" in orders and "bucket receipts holds 1 receipt(s)" in orders
    inventory = shop.ok("run", "inventory")
    assert "inventory: database inventory has 10 widget(s); sees the orders table: False" in inventory
    assert "sees orders' counter: False" in inventory and "reads the orders' receipts: False" in inventory
    env_orders = json.loads(shop.ok("infra", "env", "orders", "--format", "json", "--show-secrets"))
    env_inventory = json.loads(shop.ok("infra", "env", "inventory", "--format", "json", "--show-secrets"))
    assert env_orders["DATABASE_URL"].endswith(f":{5432 + shop.offset}/orders")
    assert env_inventory["DATABASE_URL"].endswith(f":{5432 + shop.offset}/inventory")
    assert env_orders["REDIS_URL"].rsplit("/", 1)[1] != env_inventory["REDIS_URL"].rsplit("/", 1)[1]
    masked = json.loads(shop.ok("infra", "env", "orders", "--format", "json"))
    assert "****" in masked["DATABASE_URL"] and "****" not in env_orders["DATABASE_URL"]
    # an explicit command gets the same env and its exit code comes back
    code = shop("run", "orders", "--", sys.executable, "-c", "import os, sys; sys.exit(0 if os.environ['DATABASE_URL'].endswith('/orders') else 9)")
    assert code.returncode == 0, code.stderr
    assert shop("run", "orders", "--", sys.executable, "-c", "raise SystemExit(7)").returncode == 7
    status = json.loads(shop.ok("infra", "status", "--json"))
    assert status["ready"] is True
    assert {s["status"] for s in status["services"].values()} == {"running"}
    ports = {name: svc["ports"] for name, svc in status["services"].items()}
    assert ports["db"] == {"main": 5432 + shop.offset}
    assert ports["storage"] == {"api": 9000 + shop.offset, "console": 9001 + shop.offset}
    assert {a["name"]: a["app"] for a in status["allocations"] if a["kind"] == "bucket"} == {"receipts": "orders", "inventory": "inventory"}


def test_second_up_changes_nothing(shop):
    shop.ok("infra", "up")
    before = docker("ps", "-q", "--no-trunc", "--filter", f"label=omnitron.project={shop.project}").split()
    shop.ok("infra", "up")
    after = docker("ps", "-q", "--no-trunc", "--filter", f"label=omnitron.project={shop.project}").split()
    assert sorted(before) == sorted(after) and len(after) == 3


def test_data_survives_down_and_up_and_volumes_delete_it(shop):
    shop.ok("infra", "up")
    shop.ok("run", "orders")
    shop.ok("infra", "down")
    assert labelled("container", shop.project) == []
    assert len(labelled("volume", shop.project)) == 3
    shop.ok("infra", "up")
    assert "holds 2 order(s)" in shop.ok("run", "orders")
    shop.ok("infra", "down", "--volumes")
    assert labelled("volume", shop.project) == []
    shop.ok("infra", "up")
    assert "holds 1 order(s)" in shop.ok("run", "orders")


def test_reset_without_yes_changes_nothing(shop):
    shop.ok("infra", "up")
    shop.ok("run", "orders")
    containers = labelled("container", shop.project)
    refused = shop("infra", "reset")
    assert refused.returncode != 0
    assert "--yes" in refused.stdout + refused.stderr
    assert labelled("container", shop.project) == containers
    assert "holds 2 order(s)" in shop.ok("run", "orders")


def test_port_collision_is_reported_before_any_container_starts(shop):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 6379 + shop.offset))
        blocker.listen()
        result = shop("infra", "up")
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert str(6379 + shop.offset) in text and "cache" in text and "portOffsets" in text
    assert labelled("container", shop.project) == []


def never_healthy(critical: bool) -> dict:
    return {
        "ports": {"main": 7199},
        "critical": critical,
        "startupTimeout": "3s",
        "healthCheck": {"tcp": {"port": "main"}, "timeout": "500ms"},
        "env": {"FLAKY_URL": "tcp://${host}:${port:main}"},
        "docker": {"image": BASE_IMAGE, "command": ["sleep", "600"]},
    }


@pytest.mark.parametrize("critical", [True, False])
def test_unhealthy_service_blocks_run_only_when_critical(tmp_path, critical):
    shop = Shop(tmp_path, {"flaky": never_healthy(critical)}, {"ref": {"name": "probe"}, "omnitron": {"services": {"flaky": True}}})
    try:
        start = time.monotonic()
        result = shop("run", "probe", "--", sys.executable, "-c", "import os; print(os.environ['FLAKY_URL'])")
        elapsed = time.monotonic() - start
        if critical:
            assert result.returncode != 0
            assert "flaky" in result.stderr and "omnitron infra logs flaky" in result.stderr
            assert elapsed >= 3
        else:
            assert result.returncode == 0, result.stderr
            assert f"tcp://127.0.0.1:{7199 + shop.offset}" in result.stdout
    finally:
        shop.cleanup()
