"""Secrets at injection with the core alone: backend choice, resolution errors, generated credentials, masking."""

from __future__ import annotations

import json
import string
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import pytest

from omnitron.cli import main
from omnitron.env import render_app_env
from omnitron.errors import ConfigError, TemplateError
from omnitron.plan import GeneratedSecret
from omnitron.project import Project
from omnitron.secrets.filestore import EncryptedFileBackend
from omnitron.secrets.generate import ensure_generated, generate_value
from omnitron.secrets.resolve import backend_for, resolver_for
from omnitron.templating import Renderer

pytestmark = pytest.mark.usefixtures("stand_in_providers")

SEARCH = {
    "ports": {"main": 7700},
    "env": {"SEARCH_API_KEY": "${secret:api_key}", "SEARCH_URL": "http://${host}:${port:main}"},
    "secrets": {"api_key": {"secret": "search_api_key"}},
    "docker": {"image": "search:1"},
}


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path_factory.mktemp("user") / "omnitron"
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("OMNITRON_SECRET_KEY", raising=False)
    monkeypatch.delenv("OMNITRON_PROJECT", raising=False)
    return cfg


@pytest.fixture
def project(omnitron_project, kv) -> Project:
    """``shop``: a ``kv`` service (generated ``token``) and a plain service reading ``search_api_key``."""
    eco = {"project": "shop", "infrastructure": {"services": {"cache": {"preset": "kv"}, "search": SEARCH}}}
    return omnitron_project.write(eco, {"web": {"redis": True, "services": {"search": True}}}, fmt="toml")


def web_env(project: Project) -> dict[str, str]:
    plan = project.plan(available={"docker": True})
    return render_app_env(plan, "web", Renderer(project.plugins.template_functions), secret=resolver_for(project))


def test_default_backend_is_the_encrypted_file_store(project: Project) -> None:
    backend = backend_for(project)
    assert isinstance(backend, EncryptedFileBackend)
    assert backend.path == project.root / ".omnitron" / "secrets.enc"


def test_unknown_backend_names_file_field_and_installed(omnitron_project) -> None:
    project = omnitron_project.write({"secrets": {"backend": "env"}}, fmt="toml")
    with pytest.raises(ConfigError) as exc:
        backend_for(project)
    assert str(exc.value) == "omnitron.toml: secrets.backend: unknown secret backend 'env' (install omnitron-secrets-env); installed: file"


def test_missing_secret_names_app_variable_store_key_and_fix(project: Project) -> None:
    ensure_generated(backend_for(project), project.plan(available={"docker": True}))
    with pytest.raises(TemplateError) as exc:
        web_env(project)
    msg = str(exc.value)
    assert msg.startswith("app web: SEARCH_API_KEY=")
    assert msg.endswith("secret 'search_api_key' is not set: run omnitron secret set search_api_key")


def test_plain_string_secret_in_config_is_refused(omnitron_project, capsys: pytest.CaptureFixture[str]) -> None:
    search = {**SEARCH, "secrets": {"api_key": "hunter2"}}
    omnitron_project.write({"infrastructure": {"services": {"search": search}}}, fmt="toml")
    assert main(["infra", "plan", "--project", str(omnitron_project.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("omnitron: omnitron.toml: infrastructure.services.search")
    assert "a plain string is not allowed here: store the value with `omnitron secret set KEY`" in err
    assert "hunter2" not in err


def test_ensure_generated_creates_once_and_reuses(project: Project) -> None:
    plan = project.plan(available={"docker": True})
    backend = backend_for(project)
    assert [g.key for g in plan.service("cache").generated] == ["shop/dev/cache/token"]
    assert ensure_generated(backend, plan) == ["shop/dev/cache/token"]
    token = backend.get("shop/dev/cache/token")
    assert token is not None and len(token) == 16
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    assert ensure_generated(backend, project.plan(available={"docker": True})) == []
    assert backend.get("shop/dev/cache/token") == token


def test_ensure_generated_keeps_a_value_set_by_hand(project: Project) -> None:
    backend = backend_for(project)
    backend.set("shop/dev/cache/token", "chosen-by-ops")
    assert ensure_generated(backend, project.plan(available={"docker": True})) == []
    assert backend.get("shop/dev/cache/token") == "chosen-by-ops"


def test_generated_alphabets_and_lengths() -> None:
    hex_value = generate_value(GeneratedSecret(key="k", length=17, alphabet="hex"))
    assert len(hex_value) == 17 and set(hex_value) <= set(string.hexdigits.lower())
    assert len(generate_value(GeneratedSecret(key="k", length=5, alphabet="url-safe"))) == 5
    assert generate_value(GeneratedSecret(key="k", length=64, alphabet="url-safe")) != generate_value(GeneratedSecret(key="k", length=64, alphabet="url-safe"))


def test_secret_with_url_specials_is_percent_encoded_in_userinfo(project: Project) -> None:
    token = "p@ss:w/rd%#x?"
    backend = backend_for(project)
    backend.set("shop/dev/cache/token", token)
    backend.set("search_api_key", "k")
    url = web_env(project)["KV_URL"]
    assert quote(token, safe="") in url
    parsed = urlparse(url)
    assert unquote(parsed.password or "") == token
    assert (parsed.hostname, parsed.port) == ("127.0.0.1", 7000)


def test_plan_masks_secrets_unless_show_secrets(omnitron_project, capsys: pytest.CaptureFixture[str]) -> None:
    project = omnitron_project.write({"infrastructure": {"services": {"search": SEARCH}}}, {"web": {"services": {"search": True}}}, fmt="toml")
    backend_for(project).set("search_api_key", "search-key-456")
    args = ["infra", "plan", "--json", "--project", str(project.root)]
    assert main(args) == 0
    masked = capsys.readouterr().out
    assert json.loads(masked)["apps"]["web"]["renderedEnv"]["SEARCH_API_KEY"] == "****"
    assert "search-key-456" not in masked
    assert main([*args, "--show-secrets"]) == 0
    assert json.loads(capsys.readouterr().out)["apps"]["web"]["renderedEnv"]["SEARCH_API_KEY"] == "search-key-456"
    assert main(["infra", "plan", "--project", str(project.root)]) == 0
    table = capsys.readouterr().out
    assert "SEARCH_API_KEY=****" in table and "search-key-456" not in table


def test_show_secrets_with_a_missing_secret_is_one_line(omnitron_project, capsys: pytest.CaptureFixture[str]) -> None:
    project = omnitron_project.write({"infrastructure": {"services": {"search": SEARCH}}}, {"web": {"services": {"search": True}}}, fmt="toml")
    assert main(["infra", "plan", "--show-secrets", "--project", str(project.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "app web: SEARCH_API_KEY=" in err and "omnitron secret set search_api_key" in err


def test_spec_example_secret_without_a_secrets_block_reads_the_store_key_of_that_name(omnitron_project) -> None:
    search = {"ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}", "SEARCH_API_KEY": "${secret:searchApiKey}"}, "docker": {"image": "elasticsearch:8.11.0"}}
    project = omnitron_project.write({"project": "spec"}, {"web": {"infrastructure": {"search": search}}})
    with pytest.raises(TemplateError) as exc:
        web_env(project)
    assert str(exc.value).endswith("secret 'searchApiKey' is not set: run omnitron secret set searchApiKey")
    backend_for(project).set("searchApiKey", "k-123")
    env = web_env(project)
    assert env["SEARCH_URL"] == "http://127.0.0.1:9200"
    assert env["SEARCH_API_KEY"] == "k-123"
