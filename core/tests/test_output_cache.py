"""``omnitron --help`` and ``plugins list`` replay their output only while nothing they read has changed.

Each command runs as the ``omnitron`` script does (:func:`omnitron.cli.run`), in
a fresh interpreter, with its own cache directory and a directory on
``PYTHONPATH`` where a plugin distribution is installed, edited and removed
as pip would leave it. What a run imported is read from ``-X importtime``:
a behaviour checked without timing anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"cyclopts", "rich", "pluggy", "pydantic", "pydantic_core", "anyio", "cryptography", "sqlite3", "psycopg", "redis", "aiohttp", "aiodocker", "pymysql", "httpx"}
"""What a replayed answer has no use for (pluggy and cyclopts included: no plugin is loaded, no command line parsed)."""

PLUGIN = '''
import acme_hello_seen  # an import statement shows in -X importtime (the entry point itself is loaded by importlib)
from omnitron import hookimpl
from omnitron.api import CommandSpec


@hookimpl
def omnitron_add_commands():
    return [CommandSpec(name="hello", target="acme_hello:hello", group="", help={help!r})]


def hello() -> int:
    print("hello")
    return 0
'''


class Script:
    """``omnitron ARGS`` as the installed script, with ``root/site`` on the import path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.site = root / "site"
        self.site.mkdir()
        self.cache = root / "cache"
        self.cwd = root / "cwd"  # on the import path of ``python -c``: nothing is written there
        self.cwd.mkdir()
        # no __pycache__ written in site/: a first one changes the directory, and the run is not kept (next time)
        self.env = {**os.environ, "OMNITRON_CACHE_DIR": str(self.cache), "PYTHONPATH": str(self.site), "OMNITRON_DAEMON": "off", "PYTHONDONTWRITEBYTECODE": "1"}
        for name in ("OMNITRON_PLUGINS", "OMNITRON_DISABLE_PLUGINS", "OMNITRON_CLI_CACHE", "COLUMNS"):
            self.env.pop(name, None)

    def run(self, *argv: str, **env: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
        """The finished process and the top-level modules it imported."""
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "from omnitron.cli import run; run()", *argv],
            capture_output=True, text=True, cwd=self.cwd, env={**self.env, **env}, timeout=120,
        )
        imported, other = set(), []
        for line in done.stderr.splitlines():
            if line.startswith("import time:"):
                name = line.rpartition("|")[2].strip()
                if name != "package":  # the header line
                    imported.add(name.partition(".")[0])
            else:
                other.append(line)
        done.stderr = "\n".join(other)
        return done, imported

    def install(self, help: str = "Say hello.", *, broken: bool = False) -> None:
        """The acme-hello plugin, as an installer leaves it: its module and its metadata directory."""
        body = "raise RuntimeError('acme-hello is broken')\n" if broken else PLUGIN.format(help=help)
        (self.site / "acme_hello.py").write_text(body)
        (self.site / "acme_hello_seen.py").write_text("")
        info = self.site / "acme_hello-1.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-hello\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[omnitron]\nhello = acme_hello\n")

    def uninstall(self) -> None:
        (self.site / "acme_hello.py").unlink()
        (self.site / "acme_hello_seen.py").unlink()
        info = self.site / "acme_hello-1.0.dist-info"
        for f in info.iterdir():
            f.unlink()
        info.rmdir()

    def entries(self) -> list[Path]:
        return sorted((self.cache / "cli").glob("*.json")) if (self.cache / "cli").is_dir() else []


@pytest.fixture
def script(tmp_path, omnitron_isolated) -> Script:
    return Script(tmp_path)


def test_help_is_replayed_without_cyclopts_plugins_or_models(script):
    script.install()
    first, imported_first = script.run("--help")
    assert first.returncode == 0 and "hello" in first.stdout and "Say hello." in first.stdout
    assert {"cyclopts", "pluggy", "acme_hello_seen"} <= imported_first  # the checker sees a real rendering
    again, imported_again = script.run("--help")
    assert again.returncode == 0 and again.stdout == first.stdout and again.stderr == ""
    assert not imported_again & (HEAVY | {"acme_hello_seen"})
    fresh, _ = script.run("--help", OMNITRON_CLI_CACHE="off")
    assert fresh.stdout == first.stdout
    assert len(script.entries()) == 1


def test_installing_editing_and_removing_a_plugin_shows_at_once(script):
    before, _ = script.run("--help")
    assert "hello" not in before.stdout
    assert script.run("--help")[0].stdout == before.stdout  # now replayed

    script.install()
    installed, imported = script.run("--help")
    assert "Say hello." in installed.stdout and "acme_hello_seen" in imported

    script.install(help="Say hello to the whole wide world.")  # the module edited in place (an editable install)
    edited, imported = script.run("--help")
    assert "Say hello to the whole wide world." in edited.stdout and "acme_hello_seen" in imported
    assert script.run("--help")[0].stdout == edited.stdout

    script.uninstall()
    removed, _ = script.run("--help")
    assert "hello" not in removed.stdout
    assert removed.stdout == before.stdout


def test_plugins_list_follows_the_environment_it_reads(script):
    script.install()
    listed = json.loads(script.run("plugins", "list", "--json")[0].stdout)
    assert "hello" in [p["name"] for p in listed]
    replayed, imported = script.run("plugins", "list", "--json")
    assert json.loads(replayed.stdout) == listed and "pluggy" not in imported

    disabled, imported = script.run("plugins", "list", "--json", OMNITRON_DISABLE_PLUGINS="hello")
    assert "hello" not in [p["name"] for p in json.loads(disabled.stdout)] and "pluggy" in imported
    assert json.loads(script.run("plugins", "list", "--json")[0].stdout) == listed

    # the entry point renamed in place (its metadata directory itself unchanged)
    (script.site / "acme_hello-1.0.dist-info" / "entry_points.txt").write_text("[omnitron]\ngreeter = acme_hello\n")
    renamed = [p["name"] for p in json.loads(script.run("plugins", "list", "--json")[0].stdout)]
    assert "greeter" in renamed and "hello" not in renamed

    table, _ = script.run("plugins", "list")
    assert table.returncode == 0 and "acme-hello" in table.stdout
    assert script.run("plugins", "list")[0].stdout == table.stdout
    assert table.stdout == script.run("plugins", "list", OMNITRON_CLI_CACHE="off")[0].stdout


def test_a_run_that_warns_is_not_kept(script):
    """A plugin that fails to load is reported on every run, never replayed silently."""
    script.install(broken=True)
    for _ in range(2):
        done, imported = script.run("plugins", "list")
        assert done.returncode == 0 and "acme-hello is broken" in done.stderr and "pluggy" in imported
    assert script.entries() == []


def test_commands_reading_a_project_are_never_replayed(script):
    for _ in range(2):
        done, imported = script.run("config", "schema")
        assert done.returncode == 0 and "pydantic" in imported
    assert script.entries() == []
