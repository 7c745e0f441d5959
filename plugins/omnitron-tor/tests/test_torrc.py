"""The generated torrc: the hardening lines are there, tor itself accepts it, the defaults are never offline.

The torrc is made from a real plan (the preset expanded by the planner) and
rendered with the plugin's own template functions; ``tor --verify-config``
(the machine's tor) judges it, as a file (how the native recipe feeds it) and
as a command line (how a container gets it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from omnitron.api import ProcessRun, RuntimeSpec, TemplateContext
from omnitron_tor.config import TorConfig
from omnitron_tor.functions import HashedPasswordFunction, TargetFunction
from omnitron_tor.password import hashed_control_password, s2k
from omnitron_tor.process import TorRecipe
from omnitron_tor.torrc import command_args, parse_args, relocate, torrc_lines, torrc_text
from tor_testlib import OFFLINE, tor_binary

_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)(?::([^}]*))?\}")
PASSWORD = "correct horse battery staple"


def plan_for(omnitron_project, config: dict, apps: dict | None = None, services: dict | None = None):
    eco = {"project": "onion", "infrastructure": {"services": {"tor": {"preset": "tor", "config": config}, **(services or {})}}, "stacks": {"dev": {"provider": "process"}}}
    return omnitron_project.write(eco, apps or {}).plan()


def rendered_args(plan) -> list[str]:
    """The tor service's command as the engine renders it (ports, targets, the password's hash)."""
    svc = plan.service("tor")
    ctx = TemplateContext(app=None, service="tor", ports=svc.ports, secrets=svc.secrets, secret=lambda key: PASSWORD, plan=plan)
    functions = {
        "port": lambda arg: str(svc.ports[arg]),
        "tor_target": lambda arg: TargetFunction().render(arg, ctx),
        "tor_hashed_password": lambda arg: HashedPasswordFunction().render(arg, ctx),
    }
    return [_PLACEHOLDER.sub(lambda m: functions[m.group(1)](m.group(2)), arg) for arg in svc.process.command]


def verify(torrc: Path) -> subprocess.CompletedProcess:
    return subprocess.run([tor_binary(), "--verify-config", "--defaults-torrc", "/nonexistent/torrc-defaults", "-f", str(torrc)], capture_output=True, text=True, timeout=60)


FULL = {
    "socks": True,
    "socksPort": 19950,
    "controlPort": {"port": 19951},
    "hiddenServices": [{"name": "shop", "virtualPort": 80, "target": "web"}, {"name": "admin", "virtualPort": 443, "target": "127.0.0.1:9443"}],
    "extraTorrc": ["NumEntryGuards 3", "# a comment", "MaxCircuitDirtiness 600"],
    **OFFLINE,
}


def test_hardening_lines_are_in_every_torrc():
    lines = torrc_lines(TorConfig.model_validate({"hiddenServices": [{"name": "shop", "target": "web"}]}))
    for line in [("SocksPort", "0"), ("ORPort", "0"), ("DirPort", "0"), ("ExitRelay", "0"), ("ExitPolicy", "reject *:*"), ("ClientOnly", "1"), ("ControlPort", "0"), ("HiddenServiceVersion", "3"), ("HiddenServiceEnableIntroDoSDefense", "1"), ("HiddenServicePoWDefensesEnabled", "1")]:
        assert line in lines
    assert lines.index(("HiddenServiceDir", "/var/lib/tor/hs_shop")) < lines.index(("HiddenServicePort", "80 ${tor_target:web}"))


def test_the_defaults_never_disable_the_network():
    assert not any(key == "DisableNetwork" for key, _ in torrc_lines(TorConfig()))
    assert ("DisableNetwork", "1") in torrc_lines(TorConfig.model_validate(OFFLINE))


def test_socks_and_control_bind_loopback_on_planned_ports_with_the_stored_password(omnitron_project):
    plan = plan_for(omnitron_project, FULL, apps={"web": {"ports": {"http": 18080}}})
    lines = parse_args(rendered_args(plan))
    assert ("SocksPort", "127.0.0.1:19950") in lines
    assert ("ControlPort", "127.0.0.1:19951") in lines
    assert ("HashedControlPassword", hashed_control_password(PASSWORD)) in lines
    assert ("HiddenServicePort", "80 127.0.0.1:18080") in lines
    assert ("HiddenServicePort", "443 127.0.0.1:9443") in lines
    assert ("NumEntryGuards", "3") in lines and not any(key.startswith("#") for key, _ in lines)


def test_tor_verifies_the_torrc_the_native_recipe_feeds_it(omnitron_project, tmp_path):
    binary = tor_binary()
    plan = plan_for(omnitron_project, FULL, apps={"web": {"ports": {"http": 18080}}})
    svc = plan.service("tor")
    run = ProcessRun(spec=RuntimeSpec(service=svc, command=rendered_args(plan)), data_dir=tmp_path / "data", run_dir=tmp_path / "run", binaries={"tor": Path(binary)})
    text = TorRecipe().stdin(run).decode()
    assert f"DataDirectory {tmp_path}/data\n" in text and f"HiddenServiceDir {tmp_path}/data/hs_shop\n" in text
    (tmp_path / "torrc").write_text(text)
    result = verify(tmp_path / "torrc")
    assert result.returncode == 0 and "Configuration was valid" in result.stdout, result.stdout + result.stderr


def test_tor_verifies_the_command_line_a_container_gets(omnitron_project, tmp_path):
    plan = plan_for(omnitron_project, FULL, apps={"web": {"ports": {"http": 18080}}})
    args = parse_args(rendered_args(plan))
    local = command_args(relocate(args, str(tmp_path)))
    result = subprocess.run([tor_binary(), "--verify-config", *local], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Configuration was valid" in result.stdout, result.stdout + result.stderr


def test_tor_itself_refuses_what_the_denylist_would_let_through_as_a_typo(tmp_path):
    """The check is tor's: a line tor does not know fails verification (the recipe would see tor exit)."""
    lines = torrc_lines(TorConfig.model_validate({**OFFLINE, "extraTorrc": ["NoSuchOption 1"]}), str(tmp_path))
    (tmp_path / "torrc").write_text(torrc_text(lines).replace("${port:socks}", "1"))
    result = verify(tmp_path / "torrc")
    assert result.returncode != 0 and "NoSuchOption" in result.stdout


def test_the_password_hash_is_the_one_tor_computes():
    """``tor --hash-password`` picks a random salt: recompute its hash from that salt and compare."""
    out = subprocess.run([tor_binary(), "--quiet", "--hash-password", PASSWORD], capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[-1]
    raw = bytes.fromhex(out.removeprefix("16:"))
    assert s2k(PASSWORD, raw[:8], raw[8]) == raw[9:]
    ours = hashed_control_password(PASSWORD)
    assert ours == hashed_control_password(PASSWORD) and ours != hashed_control_password(PASSWORD + "x")
    assert re.fullmatch(r"16:[0-9A-F]{58}", ours)


@pytest.mark.parametrize("switch", [{"introDoSDefense": False}, {"powDefense": False}])
def test_defences_can_be_turned_off_one_by_one(switch):
    lines = torrc_lines(TorConfig.model_validate({"hiddenServices": [{"name": "shop", "target": "web"}], **switch}))
    keys = {key for key, _ in lines}
    assert ("HiddenServiceEnableIntroDoSDefense" in keys) is not ("introDoSDefense" in switch)
    assert ("HiddenServicePoWDefensesEnabled" in keys) is not ("powDefense" in switch)


def test_a_tor_that_does_not_know_a_defence_runs_without_it(omnitron_project, tmp_path):
    """Only one tor version is installed here. An older one is stood in for by a script that answers
    ``--list-torrc-options`` with the real tor's list minus the proof-of-work options (as tor before 0.4.8)."""
    known = subprocess.run([tor_binary(), "--list-torrc-options"], capture_output=True, text=True, timeout=60).stdout
    older = "\n".join(line for line in known.splitlines() if not line.startswith("HiddenServicePoW"))
    old_tor = tmp_path / "old" / "tor"
    old_tor.parent.mkdir()
    old_tor.write_text(f"#!/bin/sh\ncat <<'EOF'\n{older}\nEOF\n")
    old_tor.chmod(0o755)
    plan = plan_for(omnitron_project, FULL, apps={"web": {"ports": {"http": 18080}}})
    notes: list[str] = []
    for binary, keeps_pow in ((Path(tor_binary()), True), (old_tor, False)):
        run = ProcessRun(spec=RuntimeSpec(service=plan.service("tor"), command=rendered_args(plan)), data_dir=tmp_path / "data", run_dir=tmp_path / "run", binaries={"tor": binary}, log=notes.append)
        text = TorRecipe().stdin(run).decode()
        assert ("HiddenServicePoWDefensesEnabled 1" in text) is keeps_pow
        assert text.count("HiddenServiceEnableIntroDoSDefense 1") == 2
    assert notes == ["tor does not know HiddenServicePoWDefensesEnabled: left out"]
