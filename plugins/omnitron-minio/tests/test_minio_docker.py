"""The minio preset with the docker provider, on the MinIO-contract stand-in image (SeaweedFS inside).

No registry is reachable here, so ``config.image`` is the locally built
stand-in (``.ci/images/minio``): it keeps the official image's contract
(``server /data --console-address :9001``, ``MINIO_ROOT_*``, ports 9000 and
9001, ``/minio/health/live``, the ``/data`` volume). Quotas are applied the
SeaweedFS way, ``weed shell`` run inside the container through the provider.
"""

from __future__ import annotations

import httpx
import pytest

from s3_project import STANDIN_IMAGE, S3Project, fill_past_quota, refused, require_docker_image, s3_client

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _image():
    require_docker_image()


@pytest.fixture
def project(tmp_path):
    p = S3Project(tmp_path, {"orders": {"s3": True}, "billing": {"s3": {"quota": "1mb"}}, "site": {"s3": {"bucket": "site-assets", "public": True}}}, provider="docker", config={"image": STANDIN_IMAGE})
    yield p
    p.cleanup()


def test_stand_in_keeps_the_contract_and_apps_are_confined(project):
    out = project.up()
    assert "bucket site-assets is public" in out
    assert httpx.get(f"http://127.0.0.1:{project.api}/minio/health/live").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{project.console}/").status_code == 200
    status = project.status()
    storage = status["services"]["storage"]
    assert storage["image"] == STANDIN_IMAGE and storage["note"].startswith("S3 server: SeaweedFS")
    assert {a["name"]: a["app"] for a in status["allocations"]} == {"orders": "orders", "billing": "billing", "site-assets": "site"}
    orders, billing, site = (project.app_env(a) for a in ("orders", "billing", "site"))
    mine, theirs = s3_client(orders), s3_client(billing)
    mine.put_object(Bucket="orders", Key="receipt.txt", Body=b"order 1")
    assert mine.get_object(Bucket="orders", Key="receipt.txt")["Body"].read() == b"order 1"
    refused(lambda: theirs.get_object(Bucket="orders", Key="receipt.txt"), "AccessDenied")
    refused(lambda: mine.put_object(Bucket="billing", Key="x", Body=b"x"), "AccessDenied")
    refused(lambda: s3_client(orders, secret="wrong-secret").list_objects_v2(Bucket="orders"), "SignatureDoesNotMatch")
    anonymous = s3_client(orders, anonymous=True)
    refused(lambda: anonymous.get_object(Bucket="orders", Key="receipt.txt"), "AccessDenied")
    refused(lambda: anonymous.put_object(Bucket="orders", Key="x", Body=b"x"), "AccessDenied")
    s3_client(site).put_object(Bucket="site-assets", Key="logo.svg", Body=b"<svg/>")
    assert anonymous.get_object(Bucket="site-assets", Key="logo.svg")["Body"].read() == b"<svg/>"
    refused(lambda: anonymous.put_object(Bucket="site-assets", Key="x", Body=b"x"), "AccessDenied")


def test_quota_is_enforced_inside_the_container(project):
    project.up()
    client = s3_client(project.app_env("billing"))
    fill_past_quota(project, client, "billing")
    assert client.get_object(Bucket="billing", Key="big.bin")["ContentLength"] == 2_500_000


def test_data_survives_down_and_up_and_down_volumes_deletes_the_volume(project):
    project.up()
    env = project.app_env("orders")
    s3_client(env).put_object(Bucket="orders", Key="kept.txt", Body=b"still here")
    project.ok("infra", "down")
    assert len(project.docker_volumes()) == 1
    project.up()
    assert s3_client(env).get_object(Bucket="orders", Key="kept.txt")["Body"].read() == b"still here"
    project.ok("infra", "down", "--volumes")
    assert project.docker_volumes() == []
    project.up()
    refused(lambda: s3_client(project.app_env("orders")).get_object(Bucket="orders", Key="kept.txt"), "NoSuchKey")
