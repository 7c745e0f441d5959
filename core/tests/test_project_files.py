"""What a project's files look like to a user: the state directory's own .gitignore, apps without a config file."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = pytest.mark.usefixtures("stand_in_providers")


def test_state_directory_ignores_itself(omnitron_project, omnitron_cli, omnitron_isolated):
    project = omnitron_project.write({"project": "gi"})
    from omnitron.state import StateStore

    with StateStore(project.state_dir):
        pass
    ignore = project.state_dir / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    repo = project.root
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (project.state_dir / "state.db").touch()
    listed = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True, check=True).stdout
    assert ".omnitron" not in listed and "omnitron.config.py" in listed


def test_secret_store_alone_creates_the_gitignore_too(omnitron_project, omnitron_cli, omnitron_isolated, monkeypatch):
    project = omnitron_project.write({"project": "gi2"})
    monkeypatch.setenv("OMNITRON_PROJECT", str(project.root))
    assert omnitron_cli("secret", "set", "k", "v").code == 0
    assert (project.state_dir / ".gitignore").is_file()


def test_an_app_without_a_config_file_is_reported(omnitron_project, omnitron_cli, monkeypatch):
    project = omnitron_project.write({"project": "nocfg", "apps": [{"name": "orders"}, {"name": "site"}]}, {"site": {}})
    monkeypatch.setenv("OMNITRON_PROJECT", str(project.root))
    result = omnitron_cli("config", "validate")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if "warning" in line]
    assert len(lines) == 1, result.err
    assert "app orders: no apps/orders/config/default.json, so it uses no infrastructure" in lines[0]
    data = omnitron_cli("config", "validate", "--json").json()
    assert len(data["warnings"]) == 1 and "orders" in data["warnings"][0]
    plan = omnitron_cli("infra", "plan")
    assert "app orders: no apps/orders/config/default.json" in plan.err



def test_an_app_naming_a_service_nobody_declares_is_warned_of_and_runs(omnitron_project, omnitron_cli, monkeypatch):
    # the spec's app example: "services": {"discovery": true, "notifications": true}, beside a custom search
    search = {"type": "daemon", "ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}"}, "docker": {"image": "elasticsearch:8.11.0"}}
    app = {"services": {"discovery": True, "notifications": True}, "infrastructure": {"search": search}}
    project = omnitron_project.write({"project": "refs", "apps": [{"name": "api"}]}, {"api": app})
    monkeypatch.setenv("OMNITRON_PROJECT", str(project.root))
    result = omnitron_cli("config", "validate")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if "warning" in line]
    assert lines == [
        f"omnitron: warning: apps/api/config/default.json: omnitron.services.{name}: no service named {name!r} in the ecosystem "
        "(declared: search), so app api gets nothing from it"
        for name in ("discovery", "notifications")
    ]
    env = omnitron_cli("infra", "env", "api", "--format", "json")
    assert env.code == 0, env.err
    assert env.json()["SEARCH_URL"] == "http://127.0.0.1:9200"


def test_validate_warns_of_a_stack_whose_provider_is_not_installed_and_checks_the_rest(omnitron_project, omnitron_cli, monkeypatch):
    search = {"ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}"}, "docker": {"image": "es:8"}}
    eco = {"project": "lap", "infrastructure": {"services": {"search": search}}, "stacks": {"dev": {"type": "local"}, "cluster": {"type": "cluster", "provider": "swarm"}}}
    project = omnitron_project.write(eco)
    monkeypatch.setenv("OMNITRON_PROJECT", str(project.root))
    result = omnitron_cli("config", "validate", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["stacks"] == {"dev": 1}
    assert len(data["warnings"]) == 1
    assert data["warnings"][0].startswith("stack cluster not checked: omnitron.config.py: stacks.cluster.provider: service search runs with the swarm provider, which is not installed: pip install omnitron-provider-swarm")
    only = omnitron_cli("config", "validate", "--stack", "cluster")
    assert only.code == 2
    assert "pip install omnitron-provider-swarm" in only.err
