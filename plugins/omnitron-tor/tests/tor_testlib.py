"""Helpers of the tor preset's tests: real tor, a project driven through the real CLI, stem.

Every project sets ``testing.disableNetwork`` (tor connects to nothing: the
tests are offline) and gets its own project name, secret key and ports.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from omnitron.testing import CliProject, free_port, unavailable

IMAGE = "omnitron-test/tor:0.4"
ONION_V3 = re.compile(r"^[a-z2-7]{56}\.onion$")
OFFLINE = {"testing": {"disableNetwork": True}}


def tor_binary() -> str:
    """The tor executable, or the test is skipped (failed under ``OMNITRON_REQUIRE_SERVICES=1``)."""
    found = shutil.which("tor") or next((p for p in ("/usr/sbin/tor", "/usr/bin/tor") if os.access(p, os.X_OK)), None)
    if found is None:
        unavailable("tor is not installed (apt-get install tor)")
    return found


def docker_image() -> str:
    """The local tor test image, or the test is skipped (failed under ``OMNITRON_REQUIRE_SERVICES=1``)."""
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers (bash .ci/docker-up.sh)")
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        unavailable(f"image {IMAGE} is not built (ONLY=tor bash .ci/build-images.sh)")
    return IMAGE


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


class TorProject(CliProject):
    """A project in a directory the service user can reach, with a tor service and apps, run through the CLI."""

    def __init__(self, provider: str) -> None:
        super().__init__("onion")
        self.provider = provider

    def write(self, tor: dict[str, Any] | None = None, apps: dict[str, dict[str, Any]] | None = None, *, services: dict[str, Any] | None = None, legacy: bool = False, stack: dict[str, Any] | None = None) -> None:
        """``omnitron.config.py`` with the service ``tor`` (``config`` = ``tor`` plus the offline switch) and ``apps``."""
        config = {**(tor or {}), **OFFLINE}
        if self.provider == "docker":
            config.setdefault("image", IMAGE)
        infra: dict[str, Any] = {"services": dict(services or {})}
        if legacy:
            infra["tor"] = config
        else:
            infra["services"]["tor"] = {"preset": "tor", "config": config}
        apps = apps or {}
        for name, omnitron in apps.items():
            self.write_app(name, omnitron)
        self.write_ecosystem({"apps": [{"name": name} for name in apps], "infrastructure": infra, "stacks": {"dev": {"provider": self.provider, **(stack or {})}}})

    def hostnames(self) -> dict[str, str]:
        """Hidden service name -> hostname, as ``infra tor --json`` lists them."""
        return {e["name"]: e["hostname"] for e in self.json("infra", "tor")["hiddenServices"]}

    def status(self) -> dict[str, Any]:
        return self.json("infra", "status")["services"]["tor"]

    def data_dir(self) -> Path:
        return self.root / ".omnitron" / "stacks" / "dev" / "data" / "tor"

    def secret(self, logical: str) -> str:
        return self.ok("secret", "get", f"{self.name}/dev/tor/{logical}").strip()

    def cleanup(self, *, down: bool = True) -> None:
        if down:
            self("infra", "down", "--volumes")
        if self.provider == "docker":
            for kind, listing, remove in (("container", ["ps", "-a", "--format", "{{.Names}}"], ["rm", "-f"]), ("volume", ["volume", "ls", "--format", "{{.Name}}"], ["volume", "rm", "-f"])):
                names = docker(*listing[:-2], "--filter", f"label=omnitron.project={self.name}", *listing[-2:], check=False).split()
                if names:
                    docker(*remove, *names, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def new_port() -> int:
    return free_port()
