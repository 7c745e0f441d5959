"""``omnitron secret ...`` through the real command line entry point."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from omnitron.cli import main


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path_factory.mktemp("user") / "omnitron"
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("OMNITRON_SECRET_KEY", raising=False)
    monkeypatch.delenv("OMNITRON_PROJECT", raising=False)
    return cfg


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "apps/web/config").mkdir(parents=True)
    (root / "omnitron.toml").write_text('[infrastructure.services.search]\ndocker = { image = "search:1" }\n\n[[apps]]\nname = "web"\n')
    (root / "apps/web/config/default.json").write_text('{"omnitron": {"services": {"search": true}}}')
    return root


def run(project: Path, *args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["secret", *args, "--project", str(project)])


def test_set_from_stdin_then_get_list_rm(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(project, "set", "search_api_key", stdin="key with spaces & symbols\n", monkeypatch=monkeypatch) == 0
    assert "set secret search_api_key" in capsys.readouterr().out
    assert run(project, "get", "search_api_key") == 0
    assert capsys.readouterr().out == "key with spaces & symbols\n"
    assert run(project, "set", "other", "from-argument", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"name": "other", "backend": "file", "created": True}
    assert run(project, "set", "other", stdin="changed", monkeypatch=monkeypatch) == 0
    assert "updated secret other" in capsys.readouterr().out
    assert run(project, "list") == 0
    assert capsys.readouterr().out.split() == ["other", "search_api_key"]
    assert run(project, "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"backend": "file", "names": ["other", "search_api_key"]}
    assert run(project, "get", "other", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"name": "other", "value": "changed"}
    assert run(project, "rm", "other", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"name": "other", "removed": True}
    assert run(project, "rm", "other") == 1
    assert capsys.readouterr().err.strip() == "omnitron: secret 'other' is not set"


def test_get_missing_names_the_fix(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "get", "nope") == 1
    err = capsys.readouterr().err
    assert err == "omnitron: secret 'nope' is not set: run omnitron secret set nope\n"


def test_set_refuses_empty_value_and_bad_names(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(project, "set", "empty", stdin="\n", monkeypatch=monkeypatch) == 1
    assert "empty value" in capsys.readouterr().err
    assert run(project, "set", "bad name", "v") == 1
    assert "invalid secret name" in capsys.readouterr().err
    assert run(project, "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)["names"] == []


def test_unknown_backend_is_one_line_listing_installed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "omnitron.toml").write_text('[secrets]\nbackend = "vault"\n\n[[apps]]\nname = "web"\n')
    assert run(project, "list") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("omnitron: omnitron.toml: secrets.backend: unknown secret backend 'vault'; installed: ")
    assert "file" in err.split("installed: ")[1]


def test_rotate_key_with_key_file(project: Path, user_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "set", "a", "value-a") == 0
    old = (user_config / "secret.key").read_bytes()
    capsys.readouterr()
    assert run(project, "rotate-key", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["keySource"] == str(user_config / "secret.key")
    assert out["stores"] == [str((project / ".omnitron/secrets.enc").resolve())]
    assert (user_config / "secret.key").read_bytes() != old
    assert run(project, "get", "a") == 0
    assert capsys.readouterr().out == "value-a\n"


def test_rotate_key_with_env_key_prints_it_once(project: Path, user_config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    assert run(project, "set", "a", "value-a") == 0
    capsys.readouterr()
    assert run(project, "rotate-key") == 0
    out = capsys.readouterr().out
    assert "set OMNITRON_SECRET_KEY" in out
    new_key = out.split("(shown once): ")[1].split()[0]
    assert run(project, "get", "a") == 1
    assert "wrong key (OMNITRON_SECRET_KEY" in capsys.readouterr().err
    monkeypatch.setenv("OMNITRON_SECRET_KEY", new_key)
    assert run(project, "get", "a") == 0
    assert capsys.readouterr().out == "value-a\n"
    assert not (user_config / "secret.key").exists()


def test_a_value_that_looks_like_an_option_is_one_line_saying_how_to_pass_it(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated password may begin with '-': the error says to pipe it (out of shell history) or put it after ``--``."""
    assert run(project, "set", "db_password", "-abc") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("omnitron: secret set has no option -abc;"), err
    assert "stdin" in err and "omnitron secret set db_password -- VALUE" in err
    assert run(project, "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)["names"] == []
    assert main(["secret", "set", "--project", str(project), "db_password", "--", "-abc"]) == 0
    assert run(project, "set", "other", stdin="--abc\n", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert run(project, "get", "db_password") == 0 and capsys.readouterr().out == "-abc\n"
    assert run(project, "get", "other") == 0 and capsys.readouterr().out == "--abc\n"
    assert run(project, "get", "--nope") == 2
    assert "Unknown option" in capsys.readouterr().err


def test_the_secret_a_config_error_asks_for_can_be_set_before_the_error_is_fixed(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain string where a secret reference belongs: the error says to `secret set` it, which must work with that config."""
    config = project / "omnitron.toml"
    config.write_text('project = "shop"\n[infrastructure.services.search]\ndocker = { image = "search:1" }\nsecrets = { api_key = "plain-value" }\n')
    assert main(["infra", "plan", "--project", str(project)]) == 2
    assert "secrets.api_key: a plain string is not allowed here" in capsys.readouterr().err
    assert run(project, "set", "search_key", stdin="the-value", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    config.write_text('project = "shop"\n[infrastructure.services.search]\ndocker = { image = "search:1" }\nsecrets = { api_key = { secret = "search_key" } }\n')
    assert run(project, "get", "search_key") == 0  # the same store the fixed config reads
    assert capsys.readouterr().out == "the-value\n"
    config.write_text('project = "shop"\nsecrets = { backend = "no-such" }\n[infrastructure.services.search]\nsecrets = { api_key = "plain" }\n')
    assert run(project, "list") == 2  # an error in the project's name or secrets settings still stops it
    assert "no-such" in capsys.readouterr().err
