"""Real tor as a native process (the process provider), offline, through the real CLI.

A hidden service targeting an app: its hostname appears in the v3 format, stays
the same across ``down``/``up`` and a killed tor, reaches the app's env through
``${onion:NAME}``, and is gone after ``down --volumes``.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from omnitron.api import PENDING
from tor_testlib import ONION_V3, TorProject, new_port, tor_binary

pytestmark = pytest.mark.slow


@pytest.fixture
def project():
    tor_binary()
    p = TorProject("process")
    yield p
    p.cleanup()


def shop(project: TorProject, *, legacy: bool = False) -> int:
    port = new_port()
    project.write(
        {"hiddenServices": [{"name": "shop", "virtualPort": 80, "target": "web"}, {"name": "blog", "virtualPort": 8080, "target": "127.0.0.1:9"}]},
        {"web": {"ports": {"http": port}, "env": {"PUBLIC_URL": "http://${onion:shop}", "BLOG": "${onion:blog}:8080"}}},
        legacy=legacy,
    )
    return port


def app_env(project: TorProject) -> dict[str, str]:
    out = project.ok("run", "web", "--", "env")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_a_hidden_service_for_an_app_gets_a_v3_address_that_reaches_the_apps_env(project):
    port = shop(project)
    assert project.hostnames() == {"shop": PENDING, "blog": PENDING}
    assert "PUBLIC_URL='http://<pending>'" in project.ok("infra", "env", "web")
    # `run` brings tor up first: the app's env reads one of its facts
    env = app_env(project)
    hostnames = project.hostnames()
    assert all(ONION_V3.match(h) for h in hostnames.values()) and hostnames["shop"] != hostnames["blog"]
    assert env["PUBLIC_URL"] == f"http://{hostnames['shop']}" and env["BLOG"] == f"{hostnames['blog']}:8080"
    listed = {e["name"]: e for e in project.json("infra", "tor")["hiddenServices"]}
    assert listed["shop"] == {"name": "shop", "service": "tor", "hostname": hostnames["shop"], "virtualPort": 80, "target": "web", "resolvedTarget": f"127.0.0.1:{port}"}
    assert listed["blog"]["resolvedTarget"] == "127.0.0.1:9"
    # the hostname on disk is the one recorded
    assert (project.data_dir() / "hs_shop" / "hostname").read_text().strip() == hostnames["shop"]
    assert hostnames["shop"] in project.ok("infra", "tor")


def test_keys_are_private_and_the_address_survives_down_up_and_a_killed_tor(project):
    shop(project)
    project.ok("infra", "up")
    first = project.hostnames()
    for path in (project.data_dir(), project.data_dir() / "hs_shop"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE((project.data_dir() / "hs_shop" / "hs_ed25519_secret_key").stat().st_mode) == 0o600
    project.ok("infra", "down")
    project.ok("infra", "up")
    assert project.hostnames() == first
    pid = int(project.status()["containerId"])
    os.kill(pid, signal.SIGKILL)
    project.ok("infra", "up")
    assert int(project.status()["containerId"]) != pid
    assert project.hostnames() == first
    assert app_env(project)["PUBLIC_URL"] == f"http://{first['shop']}"


def test_reset_lists_the_addresses_and_down_volumes_deletes_the_keys(project):
    shop(project)
    project.ok("infra", "up")
    first = project.hostnames()
    refused = project("infra", "reset")
    assert refused.returncode == 1
    assert f"onion:shop {first['shop']}" in refused.stdout and f"onion:blog {first['blog']}" in refused.stdout
    assert project.hostnames() == first  # nothing was changed
    project.ok("infra", "down", "--volumes")
    assert not project.data_dir().exists()
    assert project.hostnames() == {"shop": PENDING, "blog": PENDING}
    project.ok("infra", "up")
    second = project.hostnames()
    assert ONION_V3.match(second["shop"]) and second["shop"] != first["shop"] and second["blog"] != first["blog"]


def test_tor_runs_as_the_unprivileged_service_user_when_omnitron_is_root(project):
    if os.geteuid() != 0:
        pytest.skip("omnitron does not run as root here: tor runs as this user")
    shop(project)
    project.ok("infra", "up")
    pid = int(project.status()["containerId"])
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert uid != 0
    assert project.data_dir().stat().st_uid == uid and (project.data_dir() / "hs_shop").stat().st_uid == uid
    log = (project.root / ".omnitron" / "stacks" / "dev" / "logs" / "tor.log").read_text()
    assert "Bootstrapped 0%" in log and "running Tor as root" not in log


def test_the_legacy_infrastructure_tor_key_works_end_to_end(project):
    shop(project, legacy=True)
    planned = project.json("infra", "plan")
    assert [(s["name"], s["preset"]) for s in planned["services"]] == [("tor", "tor")]
    env = app_env(project)
    assert ONION_V3.match(env["PUBLIC_URL"].removeprefix("http://"))
    assert project.hostnames()["shop"] == env["PUBLIC_URL"].removeprefix("http://")


def test_a_config_tor_rejects_fails_the_up_with_tors_reason(project):
    project.write({"extraTorrc": ["NoSuchOption 1"]})
    result = project("infra", "up")
    assert result.returncode == 1
    assert "tor exited while starting" in result.stdout and "Unknown option 'NoSuchOption'" in result.stdout, result.stdout


def test_status_is_unhealthy_while_a_hostname_file_is_missing(project):
    shop(project)
    project.ok("infra", "up")
    assert project.status()["health"] == "healthy"
    hostname = project.data_dir() / "hs_blog" / "hostname"
    saved = hostname.read_bytes()
    hostname.unlink()
    state = project.status()
    assert state["status"] == "running" and state["health"] == "unhealthy"
    assert "no hostname yet for hidden service blog" in state["error"]
    hostname.write_bytes(saved)
    assert project.status()["health"] == "healthy"
