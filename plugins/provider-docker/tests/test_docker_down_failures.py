"""``infra down`` whose removals fail for real (a volume held by a container that is not omnitron's): the real CLI.

The services are removed concurrently; each failure must still reach the user
as one ``omnitron: ...`` line naming every service that failed, with exit 1,
never as an exception group's traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docker_testlib import BASE_IMAGE, Sandbox, by_label, docker_cli

pytestmark = pytest.mark.docker

OMNITRON = str(Path(sys.executable).parent / "omnitron")

SERVICES = "".join(
    f"""
[infrastructure.services.{name}.docker]
image = "{BASE_IMAGE}"
command = ["sleep", "infinity"]
volumes = [{{source = "data", target = "/data"}}]
"""
    for name in ("alpha", "beta")
)


def omnitron(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OMNITRON, *args], cwd=sandbox.root, capture_output=True, text=True, timeout=300)


def test_volumes_that_cannot_be_removed_are_one_line_naming_both_services(sandbox: Sandbox, omnitron_isolated: Path) -> None:
    sandbox.write('[stacks.dev]\nprovider = "docker"\n' + SERVICES)
    up = omnitron(sandbox, "infra", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    volumes = by_label("volume", sandbox.name)
    assert volumes == [f"omnitron-{sandbox.name}-dev-alpha-data", f"omnitron-{sandbox.name}-dev-beta-data"]
    holders = [docker_cli("create", "-v", f"{volume}:/held", BASE_IMAGE, "true").strip() for volume in volumes]
    try:
        down = omnitron(sandbox, "infra", "down", "--volumes")
        assert down.returncode == 1, down.stdout + down.stderr
        assert "Traceback" not in down.stderr and "ExceptionGroup" not in down.stderr, down.stderr
        lines = down.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("omnitron: "), down.stderr
        assert "(and 1 more: " in lines[0]
        assert all(volume in lines[0] for volume in volumes), lines[0]
    finally:
        docker_cli("rm", "-f", *holders)
    again = omnitron(sandbox, "infra", "down", "--volumes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert by_label("volume", sandbox.name) == []
