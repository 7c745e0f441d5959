"""The ``env`` secret backend, loaded through its entry point and selected by a project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from omnitron.testing import backend_for, main, PluginManager, Project, render_app_env, Renderer, resolver_for
from omnitron.api import SecretError, TemplateError
from omnitron_secrets_env import EnvSecretBackend, variable_name

ECOSYSTEM = """\
[secrets]
backend = "env"

[infrastructure.services.search]
ports = { main = 7700 }
env = { SEARCH_API_KEY = "${secret:api_key}" }
secrets = { api_key = { secret = "shop/search-api.key" } }
docker = { image = "search:1" }

[stacks.dev.serviceOverrides.search]
external = { host = "127.0.0.1", ports = { main = 7700 } }  # planned without any provider installed

[[apps]]
name = "web"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.startswith("OMNITRON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(tmp_path_factory.mktemp("user")))
    monkeypatch.setenv("OMNITRON_PLUGINS", "secrets-env")  # this package alone, whatever else is installed


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "apps/web/config").mkdir(parents=True)
    (tmp_path / "omnitron.toml").write_text(ECOSYSTEM)
    (tmp_path / "apps/web/config/default.json").write_text('{"omnitron": {"services": {"search": true}}}')
    return tmp_path


def test_variable_names() -> None:
    assert variable_name("search_api_key") == "OMNITRON_SECRET_SEARCH_API_KEY"
    assert variable_name("shop/dev/db/password") == "OMNITRON_SECRET_SHOP_DEV_DB_PASSWORD"
    assert variable_name("shop/search-api.key") == "OMNITRON_SECRET_SHOP_SEARCH_API_KEY"
    with pytest.raises(SecretError, match="OMNITRON_SECRET_KEY"):
        variable_name("key")


def test_registered_through_the_entry_point() -> None:
    pm = PluginManager()
    assert pm.secret_backends["env"] is EnvSecretBackend
    info = next(i for i in pm.plugin_infos() if i.name == "secrets-env")
    assert info.distribution == "omnitron-secrets-env"
    assert info.provides == {"secret_backends": ["env"]}


def test_project_selects_env_backend_and_renders_from_the_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project.discover(root)
    backend = backend_for(project)
    assert isinstance(backend, EnvSecretBackend) and backend.writable is False
    renderer = Renderer(project.plugins.template_functions)
    plan = project.plan()
    with pytest.raises(TemplateError) as exc:
        render_app_env(plan, "web", renderer, secret=resolver_for(project))
    assert str(exc.value).startswith("app web: SEARCH_API_KEY=")
    assert str(exc.value).endswith("secret 'shop/search-api.key' is not set: export OMNITRON_SECRET_SHOP_SEARCH_API_KEY")
    monkeypatch.setenv("OMNITRON_SECRET_SHOP_SEARCH_API_KEY", "from-the-env")
    assert render_app_env(plan, "web", renderer, secret=resolver_for(project))["SEARCH_API_KEY"] == "from-the-env"
    assert not (root / ".omnitron").exists(), "the env backend writes nothing"


def test_read_only_and_listing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = backend_for(Project.discover(root))
    monkeypatch.setenv("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    monkeypatch.setenv("OMNITRON_SECRET_API_TOKEN", "t")
    monkeypatch.setenv("OMNITRON_SECRET_EMPTY", "")
    assert backend.list() == ["api_token"]
    assert backend.get("api_token") == "t"
    assert backend.get("empty") is None
    with pytest.raises(SecretError, match="read-only: export OMNITRON_SECRET_API_TOKEN instead"):
        backend.set("api_token", "x")
    with pytest.raises(SecretError, match="read-only: unset OMNITRON_SECRET_API_TOKEN"):
        backend.delete("api_token")


def test_cli_with_env_backend(root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OMNITRON_SECRET_API_TOKEN", "t0k3n")
    project = ["--project", str(root)]
    assert main(["secret", "get", "api_token", *project]) == 0
    assert capsys.readouterr().out == "t0k3n\n"
    assert main(["secret", "list", "--json", *project]) == 0
    assert json.loads(capsys.readouterr().out) == {"backend": "env", "names": ["api_token"]}
    assert main(["secret", "set", "other", "value", *project]) == 1
    assert capsys.readouterr().err == "omnitron: the 'env' secret backend is read-only: export OMNITRON_SECRET_OTHER\n"
    assert main(["secret", "rm", "api_token", *project]) == 1
    assert "unset OMNITRON_SECRET_API_TOKEN" in capsys.readouterr().err
    assert main(["secret", "rotate-key", *project]) == 1
    assert "has no key" in capsys.readouterr().err
    assert main(["infra", "plan", "--json", "--show-secrets", *project]) == 2
    assert "export OMNITRON_SECRET_SHOP_SEARCH_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("OMNITRON_SECRET_SHOP_SEARCH_API_KEY", "s")
    assert main(["infra", "plan", "--json", "--show-secrets", *project]) == 0
    assert json.loads(capsys.readouterr().out)["apps"]["web"]["renderedEnv"]["SEARCH_API_KEY"] == "s"
