"""The control port, when asked for: on 127.0.0.1, authenticated (checked with stem).

It accepts the credential omnitron stored (the generated password, or the
cookie file on the service's volume) and refuses a wrong one; through it,
the running tor confirms the hardened config it accepted.
"""

from __future__ import annotations

import pytest

from tor_testlib import TorProject, docker, docker_image, new_port, tor_binary

stem_control = pytest.importorskip("stem.control")
import stem.connection  # noqa: E402

# stem 1.8 (the current release) calls Thread.setDaemon, deprecated since Python 3.10
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:setDaemon\\(\\) is deprecated:DeprecationWarning")]


@pytest.fixture(params=["process", "docker"])
def project(request):
    if request.param == "docker":
        docker_image()
    else:
        tor_binary()
    p = TorProject(request.param)
    yield p
    p.cleanup()


def controller(port: int):
    return stem_control.Controller.from_port(address="127.0.0.1", port=port)


def test_the_stored_password_is_accepted_and_a_wrong_one_refused(project):
    port = new_port()
    project.write({"controlPort": {"port": port}, "hiddenServices": [{"name": "shop", "target": "127.0.0.1:8080"}]}, {"web": {"services": {"tor": True}}})
    project.ok("infra", "up")
    password = project.secret("control_password")
    assert len(password) == 32
    with controller(port) as ctl:
        with pytest.raises(stem.connection.AuthenticationFailure):
            ctl.authenticate(password="not-" + password)
    with controller(port) as ctl:
        with pytest.raises(stem.connection.AuthenticationFailure):
            ctl.authenticate()  # no credential at all
    with controller(port) as ctl:
        ctl.authenticate(password=password)
        assert ctl.get_conf("SocksPort") == "0" and ctl.get_conf("ORPort") == "0" and ctl.get_conf("ExitRelay") == "0"
        assert ctl.get_conf("ClientOnly") == "1" and ctl.get_conf("DisableNetwork") == "1"
        assert "reject *:*" in ctl.get_conf("ExitPolicy")
        (hs_dir, options), = ctl.get_hidden_service_conf().items()
        assert hs_dir.endswith("/hs_shop") and options["HiddenServicePort"] == [(80, "127.0.0.1", 8080)]
        assert ctl.get_conf("HiddenServiceEnableIntroDoSDefense") is not None
        onion = ctl.get_info("onions/current", "")  # only ephemeral ones: ours are in the torrc
        assert onion == ""
    # an app using the tor service gets the port and the same password
    env = dict(line.split("=", 1) for line in project.ok("infra", "env", "web", "--show-secrets").splitlines())
    assert env["TOR_CONTROL_PORT"] == f"'{port}'" and env["TOR_CONTROL_PASSWORD"] == f"'{password}'"
    assert "TOR_CONTROL_PASSWORD='****'" in project.ok("infra", "env", "web")


def test_cookie_auth_accepts_the_cookie_on_the_volume_and_refuses_another(project, tmp_path):
    port = new_port()
    project.write({"controlPort": {"port": port, "auth": "cookie"}})
    project.ok("infra", "up")
    with controller(port) as ctl:
        with pytest.raises(stem.connection.AuthenticationFailure):
            stem.connection.authenticate_password(ctl, "anything")  # no password opens it
    wrong = tmp_path / "cookie"
    wrong.write_bytes(b"\x00" * 32)
    with controller(port) as ctl:
        info = stem.connection.get_protocolinfo(ctl)
        assert info.cookie_path.endswith("/control_auth_cookie")
        with pytest.raises(stem.connection.AuthenticationFailure):
            stem.connection.authenticate_cookie(ctl, str(wrong))
    cookie = project.root / "cookie"
    if project.provider == "docker":
        docker("cp", f"{project.status()['containerId']}:/var/lib/tor/control_auth_cookie", str(cookie))
    else:
        cookie.write_bytes((project.data_dir() / "control_auth_cookie").read_bytes())
    with controller(port) as ctl:
        stem.connection.authenticate_cookie(ctl, str(cookie))
        assert ctl.get_conf("CookieAuthentication") == "1"


def test_a_changed_target_port_restarts_tor_on_the_new_target_with_the_same_address(project):
    control, first_port, second_port = new_port(), new_port(), new_port()
    tor = {"controlPort": {"port": control}, "hiddenServices": [{"name": "shop", "target": "web"}]}
    project.write(tor, {"web": {"ports": {"http": first_port}}})
    project.ok("infra", "up")
    onion = project.hostnames()["shop"]
    project.write(tor, {"web": {"ports": {"http": second_port}}})
    assert "differs from the plan" in project.status()["error"]
    project.ok("infra", "up")
    assert project.hostnames()["shop"] == onion
    with controller(control) as ctl:
        ctl.authenticate(password=project.secret("control_password"))
        (options,) = ctl.get_hidden_service_conf().values()
        assert options["HiddenServicePort"] == [(80, "127.0.0.1", second_port)]
