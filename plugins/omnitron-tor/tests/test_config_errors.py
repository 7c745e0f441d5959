"""Bad tor declarations: one line naming the file and the dotted field, exit code 2, nothing started.

Run through the CLI (``omnitron infra plan``, in-process), as a user would meet them.
"""

from __future__ import annotations

import pytest

from tor_testlib import TorProject


@pytest.fixture
def project(omnitron_cli):
    p = TorProject("process")
    p.plan = lambda: omnitron_cli("infra", "plan", "--project", str(p.root))
    yield p
    p.cleanup(down=False)


DENIED = [
    ("ExitRelay 1", "tor never exits traffic for others here"),
    ("ORPort 9001", "ORPort stays 0"),
    ("exitpolicy accept *:80", "the exit policy stays `reject *:*`"),
    ("DNSPort 0.0.0.0:53", "listeners bind a loopback address only"),
    ("SocksPort 0.0.0.0:9050", "use config.socks"),
    ("ControlPort 9051", "use config.controlPort"),
    ("HiddenServiceNonAnonymousMode 1", "non-anonymous hidden services reveal the server"),
    ("DataDirectoryGroupReadable 1", "keys stay readable by tor's user only"),
    ("SafeLogging 0", "addresses stay scrubbed from the logs"),
    ("HiddenServicePort 22 127.0.0.1:22", "declared in config.hiddenServices"),
    ("__OwningControllerProcess 1", "internal ones"),
    ("%include /etc/tor/more", "every line must be visible"),
    ("RunAsDaemon 1", "stay in the foreground"),
]


@pytest.mark.parametrize(("line", "reason"), DENIED)
def test_a_line_that_undoes_the_hardening_is_refused_naming_file_and_field(project, line, reason):
    project.write({"extraTorrc": ["NumEntryGuards 3", line]})
    result = project.plan()
    assert result.code == 2, result.out + result.err
    message = result.err.strip()
    assert message.startswith("omnitron: omnitron.config.py: infrastructure.services.tor.config.extraTorrc.1: "), message
    assert repr(line) in message and reason in message
    assert len(message.splitlines()) == 1 and "Traceback" not in result.err
    assert not (project.root / ".omnitron" / "stacks").exists()


def test_lines_that_keep_the_hardening_pass(project):
    project.write({"extraTorrc": ["ExitRelay 0", "ORPort 0", "DNSPort 127.0.0.1:5353", "SafeLogging 1", "HiddenServiceSingleHopMode 0", "NumEntryGuards 3", "# note"]})
    assert project.plan().code == 0


def test_the_legacy_key_names_the_same_field(project):
    project.write({"extraTorrc": ["ExitRelay 1"]}, legacy=True)
    result = project.plan()
    assert result.code == 2
    assert "omnitron.config.py: infrastructure.services.tor.config.extraTorrc.0: 'ExitRelay 1' would undo the hardening" in result.err


@pytest.mark.parametrize(
    ("tor", "apps", "expected"),
    [
        ({"hiddenServices": [{"name": "shop", "target": "nobody"}]}, {}, "no app named 'nobody'"),
        ({"hiddenServices": [{"name": "shop", "target": "web"}]}, {"web": {}}, 'app web declares no port: add "ports"'),
        ({"hiddenServices": [{"name": "shop", "target": "web:admin"}]}, {"web": {"ports": {"http": 8080}}}, "app web declares no port 'admin'"),
        ({"hiddenServices": [{"name": "shop", "target": "tor:socks"}]}, {}, "service tor has no port 'socks'"),
    ],
)
def test_a_target_the_plan_cannot_resolve_is_a_config_error(project, tor, apps, expected):
    project.write(tor, apps)
    result = project.plan()
    assert result.code == 2, result.out + result.err
    assert result.err.startswith("omnitron: omnitron.config.py: infrastructure.services.tor: ") and expected in result.err, result.err


@pytest.mark.parametrize(
    ("tor", "path", "expected"),
    [
        ({"hiddenServices": [{"name": "Shop!", "target": "web"}]}, "hiddenServices.0.name", "should match pattern"),
        ({"hiddenServices": [{"name": "shop", "target": "web"}, {"name": "shop", "target": "api"}]}, "hiddenServices", "hidden service 'shop' is declared twice"),
        ({"hiddenServices": [{"name": "shop", "target": "host:99999"}]}, "hiddenServices.0.target", "port 99999 is out of range"),
        ({"hiddenServices": [{"name": "shop", "target": "a b"}]}, "hiddenServices.0.target", "invalid target 'a b'"),
        ({"hiddenServices": [{"name": "shop", "virtualPort": 0, "target": "web"}]}, "hiddenServices.0.virtualPort", "port 0 is out of range"),
        ({"controlPort": {"auth": "none"}}, "controlPort.auth", "Input should be 'password' or 'cookie'"),
        ({"sock": True}, "sock", "unknown key"),
    ],
)
def test_a_malformed_config_names_its_field(project, tor, path, expected):
    project.write(tor)
    result = project.plan()
    assert result.code == 2, result.out + result.err
    assert f"infrastructure.services.tor.config.{path}: " in result.err and expected in result.err, result.err


def test_an_unknown_hidden_service_in_an_apps_env_names_the_app_field(project):
    project.write({"hiddenServices": [{"name": "shop", "target": "127.0.0.1:80"}]}, {"web": {"env": {"URL": "http://${onion:blog}"}}})
    result = project.plan()
    assert result.code == 2
    assert "apps/web/config/default.json: omnitron.env.URL: app web: URL='http://${onion:blog}': no hidden service named 'blog'; declared: shop" in result.err
