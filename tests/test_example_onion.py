"""examples/onion end to end through the real CLI: tor publishes the site as a hidden service, offline.

The example is copied with its own project name and port; its tor service
gets the test-only ``testing.disableNetwork`` switch (tor connects to
nothing), and under Docker the local tor image. Everything else is the
example as written.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import jsonschema
import pytest

from omnitron.testing import free_port, unavailable

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "onion"
TOR_IMAGE = "omnitron-test/tor:0.4"
ONION_V3 = re.compile(r"^[a-z2-7]{56}\.onion$")

pytestmark = [pytest.mark.installed_plugins, pytest.mark.slow]


class Onion:
    def __init__(self, provider: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="omnitron-onion-", dir="/tmp"))
        os.chmod(self.root, 0o755)  # the service user reaches tor's data directory
        shutil.copytree(EXAMPLE / "apps", self.root / "apps")
        eco = dict(runpy.run_path(str(EXAMPLE / "omnitron.config.py"))["ecosystem"])
        eco["project"] = f"onion{uuid.uuid4().hex[:8]}"
        tor = eco["infrastructure"]["services"]["tor"]["config"]
        tor["testing"] = {"disableNetwork": True}
        if provider == "docker":
            tor["image"] = TOR_IMAGE
        eco["stacks"] = {"dev": {"provider": provider}}
        (self.root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        self.port = free_port()
        cfg = self.root / "apps" / "site" / "config" / "default.json"
        data = json.loads(cfg.read_text())
        data["omnitron"]["ports"]["http"] = self.port
        cfg.write_text(json.dumps(data))
        self.project = eco["project"]
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(self.root / ".user-config"), "OMNITRON_PROJECT": str(self.root)}
        self.env.pop("OMNITRON_PLUGINS", None)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "from omnitron.cli import run; run()", *args]

    def ok(self, *args: str) -> str:
        result = subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env, cwd=self.root, timeout=180)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def cleanup(self) -> None:
        subprocess.run(self.argv("infra", "down", "--volumes"), capture_output=True, env=self.env, cwd=self.root, timeout=180)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(params=["process", "docker"])
def onion(request):
    if request.param == "process" and not (shutil.which("tor") or os.path.exists("/usr/sbin/tor")):
        unavailable("tor is not installed (apt-get install tor)")
    if request.param == "docker" and subprocess.run(["docker", "image", "inspect", TOR_IMAGE], capture_output=True).returncode != 0:
        unavailable(f"no Docker engine with the image {TOR_IMAGE} (bash .ci/build-images.sh)")
    o = Onion(request.param)
    yield o
    o.cleanup()


def test_the_site_is_published_as_a_hidden_service_and_knows_its_onion_address(onion):
    assert "PUBLIC_URL=http://<pending>" in onion.ok("infra", "plan")
    site = subprocess.Popen(onion.argv("run", "site"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=onion.env, cwd=onion.root)
    try:
        line = site.stdout.readline()
        assert line.startswith("site: serving"), line + site.stderr.read() if site.poll() is not None else line
        listed = json.loads(onion.ok("infra", "tor", "--json"))
        jsonschema.validate(listed, json.loads((ROOT / "docs" / "schemas" / "tor.json").read_text()), cls=jsonschema.Draft202012Validator)
        (entry,) = listed["hiddenServices"]
        assert ONION_V3.match(entry["hostname"])
        assert (entry["target"], entry["resolvedTarget"], entry["virtualPort"]) == ("site", f"127.0.0.1:{onion.port}", 80)
        assert line.strip() == f"site: serving http://127.0.0.1:{onion.port}/, published as http://{entry['hostname']}"
        # where tor forwards the onion's port 80: the site answers with its public address
        deadline = time.monotonic() + 10
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{onion.port}/", timeout=2).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert body == f"hello from http://{entry['hostname']}\n"
    finally:
        site.terminate()
        site.wait(10)
        site.stdout.close()
        site.stderr.close()
