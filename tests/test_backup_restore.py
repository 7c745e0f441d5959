"""``omnitron backup create | list | restore`` and ``infra reset --backup``, end to end on both providers.

Real PostgreSQL (pg_dump/pg_restore where the server runs), Redis (an RDB
snapshot), MariaDB (mysqldump), S3 (an object copy of each bucket, from
SeaweedFS natively or the MinIO-contract stand-in image), driven through the
real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from shop_project import Shop

pytestmark = pytest.mark.installed_plugins


def provider_or_skip(provider: str) -> None:
    if provider == "docker" and shutil.which("docker") is None:
        from omnitron.testing import unavailable

        unavailable("no docker CLI on PATH")


@pytest.fixture(params=["process", "docker"])
def shop(request, tmp_path):
    provider_or_skip(request.param)
    s = Shop(tmp_path, extra_services={"cache": {"preset": "redis", "config": {"image": "omnitron-test/redis:7", "appendonly": request.param == "docker"}}}, provider=request.param)
    yield s
    s.cleanup()


RECEIPTS = (
    "import boto3, json, os; bucket = os.environ['S3_BUCKET']; s3 = boto3.client('s3'); "
    "keys = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket).get('Contents', [])]; "
    "print(json.dumps({k: s3.get_object(Bucket=bucket, Key=k)['Body'].read().decode() for k in keys}))"
)
"""Prints the orders app's bucket, key -> content (run with the app's env)."""


def receipts(shop) -> dict[str, str]:
    return json.loads(shop.ok("run", "orders", "--", sys.executable, "-c", RECEIPTS).strip().splitlines()[-1])


def test_data_written_backed_up_reset_and_restored(shop):
    shop.ok("infra", "up")
    assert "holds 1 order(s)" in shop.ok("run", "orders")
    created = json.loads(shop.ok("backup", "create", "--json"))
    assert set(created["services"]) == {"db", "cache", "storage"}
    db_files = {f["meta"]["database"]: f for f in created["services"]["db"]["files"]}
    assert {"orders", "inventory", "postgres"} <= set(db_files) and all(f["kind"] == "pg_dump custom" for f in db_files.values())
    assert [f["kind"] for f in created["services"]["cache"]["files"]] == ["redis rdb"]
    buckets = {f["meta"]["bucket"]: f for f in created["services"]["storage"]["files"]}
    assert {"receipts", "inventory"} <= set(buckets) and {f["kind"] for f in buckets.values()} == {"s3 bucket tar"}
    assert buckets["receipts"]["meta"]["objects"] == "1"
    assert created["omnitronVersion"] == "0.1.0" and created["stack"] == "dev"
    backup_dir = Path(created["path"])
    assert backup_dir.parent == shop.root / ".omnitron" / "backups" and oct(backup_dir.stat().st_mode & 0o777) == "0o700"
    assert "holds 2 order(s)" in shop.ok("run", "orders")  # after the backup: not in it

    shop.ok("infra", "reset", "--yes")
    assert "holds 1 order(s)" in shop.ok("run", "orders", "--", sys.executable, str(shop.root / "apps" / "orders" / "main.py"), "gadget")  # empty again (and one new order)
    assert receipts(shop) == {"receipts/1.txt": "order 1: 1 x gadget\n"}
    refused = shop("backup", "restore")
    assert refused.returncode == 1 and "db (postgres): its current data is replaced" in refused.stdout
    assert "storage (minio): its current data is replaced" in refused.stdout
    shop.ok("backup", "restore", "--yes")
    assert receipts(shop) == {"receipts/1.txt": "order 1: 1 x widget\n"}  # the backup's bucket, exactly
    again = shop.ok("run", "orders")
    assert "holds 2 order(s)" in again and "counted 2" in again and "holds 2 receipt(s)" in again, again  # the backup's data, plus this run

    listed = json.loads(shop.ok("backup", "list", "--json"))["backups"]
    assert [b["id"] for b in listed] == [created["id"]]


def test_restore_refuses_a_tampered_backup_and_reset_backs_up_first(tmp_path):
    shop = Shop(tmp_path, provider="process")
    try:
        before = json.loads(shop.ok("infra", "plan", "--json"))["apps"]["orders"]
        assert before["renderedEnv"]["REDIS_URL"].endswith("/<pending>")
        shop.ok("infra", "up")
        shop.ok("run", "orders")
        after = json.loads(shop.ok("infra", "plan", "--json"))["apps"]["orders"]  # allocated values once they exist
        index = after["renderedEnv"]["REDIS_URL"].rsplit("/", 1)[1]
        assert index.isdigit() and [a["values"]["db"] for a in after["allocations"] if a["kind"] == "redis_db"] == [index]
        assert f"/{index}" in shop.ok("infra", "plan").split("REDIS_URL=")[1].splitlines()[0]
        assert shop.ok("infra", "psql", "--app", "orders", "-c", "SELECT count(*) FROM orders").split()[2] == "1"  # the app's database
        out = shop.ok("infra", "reset", "--yes", "--backup")
        assert "backup " in out and "db (" in out
        backups = json.loads(shop.ok("backup", "list", "--json"))["backups"]
        assert len(backups) == 1
        path = Path(backups[0]["path"])
        dump = path / backups[0]["services"]["db"]["files"][0]["path"]
        original = dump.read_bytes()
        dump.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        refused = shop("backup", "restore", "--yes")
        assert refused.returncode == 1
        assert "does not match its manifest, nothing restored" in refused.stderr and "sha256 differs" in refused.stderr, refused.stderr
        dump.write_bytes(original)
        shop.ok("backup", "restore", backups[0]["id"], "--yes")
        assert "holds 2 order(s)" in shop.ok("run", "orders")
        elsewhere = tmp_path / "elsewhere"
        made = json.loads(shop.ok("backup", "create", "db", "--to", str(elsewhere), "--json"))
        assert list(made["services"]) == ["db"] and made["skipped"] == {}
        assert [b["id"] for b in json.loads(shop.ok("backup", "list", "--from", str(elsewhere), "--json"))["backups"]] == [made["id"]]
        missing = shop("backup", "restore", "nope", "--yes")
        assert missing.returncode == 1 and "no backup 'nope'" in missing.stderr
    finally:
        shop.cleanup()


def test_mariadb_round_trip_as_native_processes(tmp_path):
    mariadb = {"preset": "mariadb"}
    shop = Shop(tmp_path, extra_services={"my": mariadb}, extra_app={"ref": {"name": "books"}, "omnitron": {"database": {"dialect": "mariadb"}}}, provider="process")
    try:
        shop.ok("infra", "up")
        shop.ok("infra", "mysql", "books", "-c", "CREATE TABLE t (x int); INSERT INTO t VALUES (41), (42)")
        created = json.loads(shop.ok("backup", "create", "my", "--json"))
        assert [f["meta"]["database"] for f in created["services"]["my"]["files"]] == ["books"]
        shop.ok("infra", "reset", "--yes")
        assert "doesn't exist" in shop("infra", "mysql", "books", "-c", "SELECT * FROM t").stderr
        shop.ok("backup", "restore", "--yes")
        assert shop.ok("infra", "mysql", "books", "-c", "SELECT SUM(x) FROM t").split()[-1] == "83"
    finally:
        shop.cleanup()
