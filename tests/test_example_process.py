"""The example ecosystem end to end as native processes (the process provider), through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from shop_project import Shop

pytestmark = pytest.mark.installed_plugins


@pytest.fixture
def shop(tmp_path):
    # provider "auto" on the stack: `up --provider process` must be remembered by later commands
    s = Shop(tmp_path, provider="auto")
    yield s
    s.cleanup()


def live_group_members(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes(shop: Shop) -> dict[str, dict]:
    return json.loads(shop.ok("infra", "status", "--json"))["services"]


def test_two_apps_on_native_processes(shop):
    out = shop.ok("infra", "up", "--provider", "process")
    assert "ready" in out
    services = processes(shop)
    assert {s["provider"] for s in services.values()} == {"process"}, services
    planned = json.loads(shop.ok("infra", "plan", "--json"))  # auto keeps the provider of the last up
    assert {s["provider"] for s in planned["services"]} == {"process"}
    orders = shop.ok("run", "orders")
    assert "holds 1 order(s)" in orders and "bucket receipts holds 1 receipt(s)" in orders
    inventory = shop.ok("run", "inventory")
    assert "sees the orders table: False" in inventory and "sees orders' counter: False" in inventory
    assert "reads the orders' receipts: False" in inventory
    orders_env = json.loads(shop.ok("infra", "env", "orders", "--format", "json", "--show-secrets"))
    inventory_env = json.loads(shop.ok("infra", "env", "inventory", "--format", "json", "--show-secrets"))
    assert orders_env["DATABASE_URL"].endswith("/orders") and inventory_env["DATABASE_URL"].endswith("/inventory")
    assert orders_env["REDIS_URL"].rsplit("/", 1)[1] != inventory_env["REDIS_URL"].rsplit("/", 1)[1]
    assert orders_env["S3_BUCKET"] == "receipts" and inventory_env["S3_BUCKET"] == "inventory"
    assert orders_env["AWS_ACCESS_KEY_ID"] == orders_env["S3_ACCESS_KEY"] != inventory_env["S3_ACCESS_KEY"]
    assert services["storage"]["note"].startswith("S3 server: SeaweedFS")


def test_data_survives_down_and_up_and_volumes_delete_it(shop):
    shop.ok("infra", "up", "--provider", "process")
    shop.ok("run", "orders")
    shop.ok("infra", "down")
    shop.ok("infra", "up", "--provider", "process")
    again = shop.ok("run", "orders")
    assert "holds 2 order(s)" in again and "holds 2 receipt(s)" in again
    shop.ok("infra", "down", "--volumes")
    shop.ok("infra", "up", "--provider", "process")
    fresh = shop.ok("run", "orders")
    assert "holds 1 order(s)" in fresh and "holds 1 receipt(s)" in fresh


def test_killed_service_is_restarted_by_the_next_up_and_down_leaves_nothing(shop):
    shop.ok("infra", "up", "--provider", "process")
    shop.ok("run", "orders")
    before = processes(shop)
    pid = int(before["db"]["containerId"])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while processes(shop)["db"]["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes(shop)["db"]["status"] != "running"
    shop.ok("infra", "up")
    after = processes(shop)
    assert after["db"]["status"] == "running" and int(after["db"]["containerId"]) != pid
    assert "holds 2 order(s)" in shop.ok("run", "orders")

    groups = {name: os.getpgid(int(svc["containerId"])) for name, svc in after.items()}
    ports = [5432 + shop.offset, 6379 + shop.offset]
    assert all(accepts(p) for p in ports)
    shop.ok("infra", "down")
    for name, pgid in groups.items():
        assert live_group_members(pgid) == [], f"{name}: processes left in group {pgid}"
    assert not any(accepts(p) for p in ports)
