"""MinIO as a native process: a ``minio`` binary on PATH (MinIO ships no wheel).

``minio server DATA --address BIND:API --console-address BIND:CONSOLE``, the
root credentials in ``MINIO_ROOT_USER``/``MINIO_ROOT_PASSWORD``, as the
official image runs it; update checks off.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRun

from .process import NativeRecipe, root_env

_RELEASE = re.compile(r"RELEASE\.[0-9TZ:-]+")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class MinioRecipe(NativeRecipe):
    kind: ClassVar[str] = "minio"
    label: ClassVar[str] = "MinIO"
    binaries = ("minio",)
    search_paths = ("/usr/local/bin", "/opt/minio/bin")
    uses_run_dir: ClassVar[bool] = False
    install_hint = "put a `minio` binary on PATH (MinIO has no wheel), set config.server = \"seaweedfs\", or use the docker provider"

    def version(self, binary: Path) -> str | None:
        """``minio --version`` prints ``minio version RELEASE.2025-04-22T22-12-26Z ...``."""
        try:
            out = subprocess.run([str(binary), "--version"], capture_output=True, timeout=10, check=False).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            return None
        found = _RELEASE.search(out)
        return found.group(0) if found else None

    def command(self, run: ProcessRun) -> list[str]:
        return [
            str(run.binaries["minio"]), "server", str(run.data_dir),
            "--address", _address(run.bind_address, run.port["api"]),
            "--console-address", _address(run.bind_address, run.port["console"]),
        ]

    def env(self, run: ProcessRun) -> dict[str, str]:
        user, password = root_env(run)
        env = {"MINIO_ROOT_USER": user, "MINIO_ROOT_PASSWORD": password, "MINIO_UPDATE": "off"}
        region = run.spec.service.config.get("region")
        if region and region != "us-east-1":
            env["MINIO_SITE_REGION"] = str(region)
        return env
