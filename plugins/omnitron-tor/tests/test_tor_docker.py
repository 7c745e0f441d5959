"""Real tor in a container (the docker provider, the local ``omnitron-test/tor`` image), offline, through the CLI.

The container runs on the host's network: tor listens on 127.0.0.1 of the
host and reaches apps there. Its keys are on the service's named volume.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from omnitron.api import PENDING
from omnitron_tor.torrc import command_args, parse_args, relocate
from tor_testlib import ONION_V3, TorProject, docker, docker_image, new_port, tor_binary

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def project():
    docker_image()
    p = TorProject("docker")
    yield p
    p.cleanup()


def container(project: TorProject) -> dict:
    return json.loads(docker("inspect", project.status()["containerId"]))[0]


def test_a_hidden_service_for_an_app_survives_down_up_and_a_restart_and_goes_with_the_volume(project):
    port = new_port()
    project.write({"hiddenServices": [{"name": "shop", "target": "web"}]}, {"web": {"ports": {"http": port}, "env": {"PUBLIC_URL": "http://${onion:shop}"}}})
    out = project.ok("run", "web", "--", "sh", "-c", "echo $PUBLIC_URL")
    first = project.hostnames()["shop"]
    assert ONION_V3.match(first) and out.strip() == f"http://{first}"
    data = container(project)
    assert data["HostConfig"]["NetworkMode"] == "host" and data["Config"]["User"] == "debian-tor"
    assert data["Config"]["Healthcheck"]["Test"] == ["NONE"]  # the image's check needs the network: omnitron probes
    assert project.status()["provider"] == "docker"
    # the keys on the volume: private to tor's user
    listing = docker("exec", data["Id"], "stat", "-c", "%a %U %n", "/var/lib/tor", "/var/lib/tor/hs_shop", "/var/lib/tor/hs_shop/hs_ed25519_secret_key")
    assert listing.split("\n")[:3] == ["700 debian-tor /var/lib/tor", "700 debian-tor /var/lib/tor/hs_shop", "600 debian-tor /var/lib/tor/hs_shop/hs_ed25519_secret_key"]
    project.ok("infra", "down")
    project.ok("infra", "up")
    assert project.hostnames()["shop"] == first
    docker("restart", "-t", "2", container(project)["Id"])
    project.ok("infra", "up")
    assert project.hostnames()["shop"] == first
    assert f"onion:shop {first}" in project("infra", "reset").stdout
    project.ok("infra", "down", "--volumes")
    assert project.hostnames()["shop"] == PENDING
    assert docker("volume", "ls", "-q", "--filter", f"label=omnitron.project={project.name}").strip() == ""
    project.ok("infra", "up")
    assert project.hostnames()["shop"] not in (first, PENDING)


def test_tor_verifies_the_command_line_the_container_runs(project, tmp_path):
    port, control = new_port(), new_port()
    project.write({"controlPort": {"port": control}, "hiddenServices": [{"name": "shop", "target": "web"}]}, {"web": {"ports": {"http": port}}})
    project.ok("infra", "up")
    data = container(project)
    assert data["Config"]["Entrypoint"] == ["tor"]
    lines = parse_args(data["Config"]["Cmd"])
    assert ("ControlPort", f"127.0.0.1:{control}") in lines and ("HiddenServicePort", f"80 127.0.0.1:{port}") in lines
    assert ("SocksPort", "0") in lines and ("ExitPolicy", "reject *:*") in lines and ("HiddenServicePoWDefensesEnabled", "1") in lines
    secret = project.secret("control_password")
    assert secret not in json.dumps(data)  # only its salted hash is on the command line
    local = command_args(relocate(lines, str(tmp_path)))
    result = subprocess.run([tor_binary(), "--verify-config", *local], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Configuration was valid" in result.stdout, result.stdout + result.stderr


def test_a_config_tor_rejects_fails_the_up(project):
    project.write({"extraTorrc": ["NoSuchOption 1"]})
    result = project("infra", "up")
    assert result.returncode == 1
    assert "service tor" in result.stdout and "exited" in result.stdout, result.stdout
    assert "Unknown option 'NoSuchOption'" in project("infra", "logs", "tor").stdout
