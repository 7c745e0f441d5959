"""Secrets with the real postgres preset: DATABASE_URL encoding and a whole cycle leaving no plaintext on disk.

Runs with every package installed (the e2e session).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import pytest

import omnitron_postgres  # noqa: E402,F401  (the e2e session installs every package)

from omnitron.cli import main  # noqa: E402
from omnitron.env import render_app_env  # noqa: E402
from omnitron.project import Project  # noqa: E402
from omnitron.secrets.generate import ensure_generated  # noqa: E402
from omnitron.secrets.resolve import backend_for, resolver_for  # noqa: E402
from omnitron.templating import Renderer  # noqa: E402

pytestmark = pytest.mark.installed_plugins

ECOSYSTEM = """\
[infrastructure.services.db]
preset = "postgres"

[infrastructure.services.search]
ports = { main = 7700 }
env = { SEARCH_API_KEY = "${secret:api_key}" }
secrets = { api_key = { secret = "search_api_key" } }
docker = { image = "search:1" }

[[apps]]
name = "web"
"""


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path_factory.mktemp("user") / "omnitron"
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("OMNITRON_SECRET_KEY", raising=False)
    monkeypatch.delenv("OMNITRON_PROJECT", raising=False)
    monkeypatch.setenv("OMNITRON_PLUGINS", "postgres,docker")  # planned for docker; nothing runs
    return cfg


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "apps/web/config").mkdir(parents=True)
    (root / "omnitron.toml").write_text(ECOSYSTEM)
    (root / "apps/web/config/default.json").write_text('{"omnitron": {"database": true, "services": {"search": true}}}')
    return root


def web_env(project: Project) -> dict[str, str]:
    plan = project.plan(available={"docker": True})
    return render_app_env(plan, "web", Renderer(project.plugins.template_functions), secret=resolver_for(project))


def test_password_with_url_specials_round_trips_through_database_url(root: Path) -> None:
    password = "p@ss:w/rd%#x?"
    project = Project.discover(root)
    backend = backend_for(project)
    backend.set("shop/dev/db/password", password)
    backend.set("search_api_key", "k")
    url = web_env(project)["DATABASE_URL"]
    assert url == f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:5432/web"
    parsed = urlparse(url)
    assert unquote(parsed.password or "") == password
    assert (parsed.username, parsed.hostname, parsed.port, parsed.path) == ("postgres", "127.0.0.1", 5432, "/web")


def test_generated_postgres_password_is_stored_once(root: Path) -> None:
    project = Project.discover(root)
    backend = backend_for(project)
    assert ensure_generated(backend, project.plan(available={"docker": True})) == ["shop/dev/db/password"]
    password = backend.get("shop/dev/db/password")
    assert password is not None and len(password) == 32
    assert ensure_generated(backend, project.plan(available={"docker": True})) == []
    assert backend.get("shop/dev/db/password") == password


def test_no_plaintext_secret_on_disk_after_a_whole_cycle(root: Path, user_config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    api_key = "SEARCH-KEY-d41d8cd98f00b204"
    extra = "EXTRA-VALUE-9e107d9d372bb682"
    monkeypatch.setattr(sys, "stdin", io.StringIO(api_key + "\n"))
    assert main(["secret", "set", "search_api_key", "--project", str(root)]) == 0
    assert main(["secret", "set", "extra", extra, "--project", str(root)]) == 0
    project = Project.discover(root)
    generated = ensure_generated(backend_for(project), project.plan(available={"docker": True}))
    password = backend_for(project).get(generated[0])
    assert password is not None
    env = web_env(project)
    assert env["SEARCH_API_KEY"] == api_key and quote(password, safe="") in env["DATABASE_URL"]
    capsys.readouterr()
    assert main(["infra", "plan", "--json", "--project", str(root)]) == 0
    masked = capsys.readouterr().out
    assert api_key not in masked and password not in masked
    assert json.loads(masked)["apps"]["web"]["renderedEnv"]["SEARCH_API_KEY"] == "****"
    assert main(["infra", "plan", "--json", "--show-secrets", "--project", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)["apps"]["web"]["renderedEnv"]
    assert shown["SEARCH_API_KEY"] == api_key and password in shown["DATABASE_URL"]

    needles = {s.encode() for v in (api_key, extra, password) for s in (v, quote(v, safe=""))}
    files = [p for d in (root, user_config) for p in d.rglob("*") if p.is_file()]
    assert root / ".omnitron" / "secrets.enc" in files and user_config / "secret.key" in files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{path} holds a secret in plain text"
