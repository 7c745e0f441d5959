"""The minio preset's declarations: what it plans, what apps get, and one-line errors for bad input.

No server is started here: everything is planning (``omnitron infra plan``
through the CLI, in-process) or the pure parts of the native recipes.
"""

from __future__ import annotations

import os
import stat

import pytest

from omnitron_minio.admin import bucket_only_policy
from omnitron_minio.admin_seaweedfs import quota_commands
from omnitron_minio.config import DEFAULT_IMAGE
from omnitron_minio.preset import native_recipe
from omnitron_minio.server import identify


@pytest.fixture(autouse=True)
def _plugins(monkeypatch):
    monkeypatch.setenv("OMNITRON_PLUGINS", "minio,process,docker")


def write(omnitron_project, config=None, apps=None, **eco):
    services = {"storage": {"preset": "minio", "config": config or {}}}
    return omnitron_project.write({"project": "shop", "infrastructure": {"services": services}, **eco}, apps)


def plan_json(omnitron_cli, project):
    result = omnitron_cli("infra", "plan", "--json", "--provider", "process", "--project", str(project.root))
    assert result.code == 0, result.err
    return result.json()


def test_preset_follows_the_official_image_contract(omnitron_project, omnitron_cli):
    project = write(omnitron_project)
    plan = omnitron_cli("infra", "plan", "--json", "--provider", "docker", "--project", str(project.root)).json()
    (svc,) = plan["services"]
    assert svc["preset"] == "minio" and svc["type"] == "storage"
    assert svc["docker"]["image"] == DEFAULT_IMAGE and DEFAULT_IMAGE.startswith("quay.io/minio/minio:RELEASE.")
    assert svc["docker"]["command"] == ["server", "/data", "--console-address", ":9001"]
    assert svc["docker"]["env"] == {"MINIO_ROOT_USER": "${secret:root_user}", "MINIO_ROOT_PASSWORD": "${secret:root_password}"}
    assert svc["ports"] == {"api": 9000, "console": 9001} and svc["bindAddress"] == "127.0.0.1"
    assert [v["target"] for v in svc["docker"]["volumes"]] == ["/data"]
    assert "minio" in svc["healthCheck"]
    assert sorted(g["key"] for g in svc["generated"]) == ["shop/dev/storage/root_password", "shop/dev/storage/root_user"]


def test_s3_true_gives_each_app_its_bucket_and_keys(omnitron_project, omnitron_cli):
    project = write(omnitron_project, apps={"web": {"s3": True}, "Worker_2": {"s3": {"bucket": "jobs", "quota": "10gb", "awsEnv": True}}})
    plan = plan_json(omnitron_cli, project)
    web, worker = plan["apps"]["web"], plan["apps"]["Worker_2"]
    assert web["allocations"][0]["name"] == "web" and web["allocations"][0]["kind"] == "bucket"
    assert worker["allocations"][0]["name"] == "jobs"
    assert worker["allocations"][0]["params"] == {"quota": 10_000_000_000, "public": False}
    assert sorted(g["key"] for g in web["generated"]) == ["shop/dev/storage/apps/web/access_key", "shop/dev/storage/apps/web/secret_key"]
    assert set(web["env"]) - {"PORT"} == {"S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_REGION"}  # PORT: the app's own
    assert set(worker["env"]) == set(web["env"]) | {"AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
    rendered = worker["renderedEnv"]
    assert rendered["S3_ENDPOINT"] == rendered["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9000"
    assert rendered["S3_BUCKET"] == "jobs" and rendered["S3_SECRET_KEY"] == "****"


def test_an_app_name_s3_refuses_becomes_a_valid_bucket_name(omnitron_project, omnitron_cli):
    project = write(omnitron_project, apps={"Web_App": {"s3": True}})
    assert plan_json(omnitron_cli, project)["apps"]["Web_App"]["allocations"][0]["name"] == "web-app"


def test_legacy_minio_key_is_the_minio_preset(omnitron_project, omnitron_cli):
    project = omnitron_project.write({"project": "shop", "infrastructure": {"minio": {"buckets": ["uploads"], "quota": "1gb"}}}, {"web": {"s3": True}})
    plan = plan_json(omnitron_cli, project)
    (svc,) = plan["services"]
    assert svc["name"] == "minio" and svc["preset"] == "minio"
    assert svc["config"]["buckets"] == ["uploads"] and svc["config"]["quota"] == 1_000_000_000
    assert plan["apps"]["web"]["allocations"][0]["service"] == "minio"


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({"quota": "10 gigs"}, "infrastructure.services.storage.config.quota", "invalid size '10 gigs'"),
        ({"bucket": ["x"]}, "infrastructure.services.storage.config.bucket", "unknown key"),
        ({"buckets": ["My_Bucket"]}, "infrastructure.services.storage.config.buckets.0", "invalid bucket name 'My_Bucket'"),
        ({"buckets": [{"name": "ok-name", "quota": "lots"}]}, "infrastructure.services.storage.config.buckets.0.quota", "invalid size 'lots'"),
        ({"server": "ceph"}, "infrastructure.services.storage.config.server", "Input should be 'auto', 'minio' or 'seaweedfs'"),
    ],
)
def test_bad_preset_config_is_one_line_naming_file_and_field(omnitron_project, omnitron_cli, config, path, message):
    project = write(omnitron_project, config)
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert result.code == 2
    line = result.err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"omnitron: omnitron.config.py: {path}: {message}"), line


@pytest.mark.parametrize(
    ("request_", "path", "message"),
    [
        ({"quota": "10 gigs"}, "omnitron.s3.quota", "invalid size '10 gigs'"),
        ({"buckets": "x"}, "omnitron.s3.buckets", "unknown key"),
        ({"bucket": "My_Bucket"}, "omnitron.s3.bucket", "invalid bucket name 'My_Bucket'"),
        ({"bucket": "192.168.1.1"}, "omnitron.s3.bucket", "invalid bucket name"),
    ],
)
def test_bad_app_s3_request_is_one_line_naming_file_and_field(omnitron_project, omnitron_cli, request_, path, message):
    project = write(omnitron_project, apps={"web": {"s3": request_}})
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert result.code == 2
    line = result.err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"omnitron: apps/web/config/default.json: {path}: {message}"), line


def test_native_server_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert native_recipe("auto").kind == "seaweedfs"
    assert native_recipe("minio").kind == "minio"
    binary = tmp_path / "minio"
    binary.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(binary, stat.S_IRWXU)
    assert native_recipe("auto").kind == "minio"
    assert native_recipe("seaweedfs").kind == "seaweedfs"


def test_server_kind_from_the_server_header():
    assert identify("SeaweedFS 8000GB 4.48").kind == "seaweedfs" and identify("SeaweedFS 8000GB 4.48").label == "SeaweedFS 4.48"
    assert identify("MinIO").kind == "minio" and identify("MinIO").label == "MinIO"
    assert identify("AmazonS3").kind == "other" and identify(None).kind == "other"


def test_app_policy_allows_its_bucket_only_and_not_its_settings():
    policy = bucket_only_policy("web")
    resources = {r for st in policy["Statement"] for r in st["Resource"]}
    assert resources == {"arn:aws:s3:::web", "arn:aws:s3:::web/*"}
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    assert "s3:PutObject" in actions and "s3:GetObject" in actions
    assert not actions & {"s3:*", "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:CreateBucket"}


def test_seaweedfs_quotas_round_up_to_mebibytes_and_end_with_the_sweep():
    assert quota_commands({"b": 1_000_000, "a": None, "c": 3 * 1024**2 + 1}) == [
        "s3.bucket.quota -name=a -op=remove",
        "s3.bucket.quota -name=b -op=set -sizeMB=1",
        "s3.bucket.quota -name=c -op=set -sizeMB=4",
        "s3.bucket.quota.enforce -apply",
    ]


def test_seaweedfs_is_ready_once_its_master_lists_a_volume_server():
    from omnitron_minio.process_seaweedfs import has_volume_server

    # the shapes weed 4.48's master answers on /dir/status: just started, then after the first heartbeat
    assert not has_volume_server({"Topology": {"Max": 0, "Free": 0, "DataCenters": None, "Layouts": None}})
    assert not has_volume_server({"Topology": {"DataCenters": [{"Id": "DefaultDataCenter", "Racks": [{"Id": "DefaultRack", "DataNodes": []}]}]}})
    node = {"Url": "127.0.0.1:28080", "PublicUrl": "127.0.0.1:28080", "Volumes": 2, "EcShards": 0, "Max": 75, "VolumeIds": " 1 2 "}
    assert has_volume_server({"Topology": {"DataCenters": [{"Id": "DefaultDataCenter", "Racks": [{"Id": "DefaultRack", "DataNodes": [node]}]}]}})


def test_an_internal_port_whose_weed_socket_another_account_left_is_not_picked():
    from omnitron_minio.process_seaweedfs import SOCKETS, _any_free_port, pick_ports

    port = _any_free_port()
    stale = SOCKETS.replace("*", "filer-grpc").format(port=port)
    with open(stale, "w"):
        pass
    try:
        me = os.getuid()
        assert pick_ports({"master": port}, set(), uid=me)["master"] == port  # its own: weed removes it
        assert pick_ports({"master": port}, set(), uid=me + 4321)["master"] != port  # another's: weed would stop
    finally:
        os.unlink(stale)


def test_sigv4_signs_the_documented_example():
    """AWS's published SigV4 example for S3 (``GET /test.txt`` with a ``Range`` header) gives its published signature."""
    from datetime import UTC, datetime

    from omnitron_minio.sigv4 import sign

    headers = sign(
        "GET", "examplebucket.s3.amazonaws.com", "/test.txt", "", {"Range": "bytes=0-9"}, b"",
        access_key="AKIAIOSFODNN7EXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1", service="s3", now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_native_minio_gets_the_official_command_line_and_its_root_identity_through_the_environment(tmp_path):
    """The MinIO recipe's command (a ``minio`` binary cannot be had here to run it)."""
    from omnitron.api import PlannedService, ProcessRun, RuntimeSpec
    from omnitron_minio.process_minio import MinioRecipe

    svc = PlannedService(name="storage", preset="minio", provider="process", host="127.0.0.1", ports={"api": 29000, "console": 29001}, config={"server": "minio", "region": "eu-west-1"})
    spec = RuntimeSpec(service=svc, env={"MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "s3cr3t-password"})
    run = ProcessRun(spec=spec, data_dir=tmp_path / "data", run_dir=tmp_path / "run", binaries={"minio": tmp_path / "minio"}, port=dict(svc.ports))
    recipe = MinioRecipe()
    command = recipe.command(run)
    assert command == [str(tmp_path / "minio"), "server", str(tmp_path / "data"), "--address", "127.0.0.1:29000", "--console-address", "127.0.0.1:29001"]
    assert "s3cr3t-password" not in " ".join(command)
    assert recipe.env(run) == {"MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "s3cr3t-password", "MINIO_UPDATE": "off", "MINIO_SITE_REGION": "eu-west-1"}


def test_a_data_directory_made_by_one_server_is_refused_to_the_other(tmp_path):
    import anyio

    from omnitron.api import PlannedService, ProcessRun, ProvisionError, RuntimeSpec
    from omnitron_minio.process import write_marker
    from omnitron_minio.process_minio import MinioRecipe

    svc = PlannedService(name="storage", preset="minio", provider="process", host="127.0.0.1", ports={"api": 29000, "console": 29001}, config={"server": "auto"})
    data = tmp_path / "data"
    data.mkdir()
    write_marker(data, {"server": "seaweedfs", "ports": {}})
    run = ProcessRun(spec=RuntimeSpec(service=svc), data_dir=data, run_dir=tmp_path / "run", port=dict(svc.ports))
    with pytest.raises(ProvisionError, match=r"holds seaweedfs data, but this start runs MinIO \(config.server = 'auto'\): set config.server to 'seaweedfs'"):
        anyio.run(MinioRecipe().before_start, run)
