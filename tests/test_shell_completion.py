"""``omnitron --install-completion`` for bash, zsh and fish; the shells complete app, service, stack and backup names from the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omnitron.testing import unavailable

pytestmark = pytest.mark.installed_plugins

ECO = {
    "project": "completes",
    "apps": [{"name": "orders"}, {"name": "outbox"}],
    "infrastructure": {"services": {"db": {"preset": "postgres"}, "cache": {"preset": "redis"}, "search": {"ports": {"http": 9200}, "docker": {"image": "es:8"}}}},
    "stacks": {"dev": {}, "staging": {}, "test": {}},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({ECO!r})\n")
    for app in ("orders", "outbox"):
        (tmp_path / "apps" / app / "config").mkdir(parents=True)
        (tmp_path / "apps" / app / "config" / "default.json").write_text('{"omnitron": {"database": true}}')
    backup = tmp_path / ".omnitron" / "backups" / "20250101T000000Z-dev"
    backup.mkdir(parents=True)
    (backup / "manifest.json").write_text('{"format": 1, "id": "20250101T000000Z-dev", "createdAt": "2025-01-01T00:00:00+00:00", "omnitronVersion": "0.1.0", "project": "completes", "stack": "dev", "services": {}}')
    return tmp_path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    scripts = {}
    for shell in ("bash", "zsh", "fish"):
        result = subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", "--install-completion", "--shell", shell], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        path = next(p for p in home.rglob("*omnitron*") if p.is_file() and (shell in str(p) or p.suffix == f".{shell}" or (shell == "zsh" and p.name.startswith("_"))))
        scripts[shell] = path
    assert "__complete" in scripts["bash"].read_text() and "infra" in scripts["bash"].read_text()
    assert str(scripts["bash"]) in (home / ".bashrc").read_text()
    return {**scripts, "env": env}


def shell_env(installed) -> dict[str, str]:
    return {**installed["env"], "OMNITRON_PROJECT": ""}


def bash_complete(installed, project: Path, words: list[str]) -> list[str]:
    script = f'source "{installed["bash"]}"; COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; _omnitron; printf "%s\\n" "${{COMPREPLY[@]}}"'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=project, env=shell_env(installed), timeout=60)
    assert result.returncode == 0, result.stderr
    return sorted(filter(None, result.stdout.splitlines()))


def test_bash_completes_commands_and_the_projects_names(installed, project):
    assert bash_complete(installed, project, ["omnitron", "infra", "wa"]) == ["wait"]
    assert bash_complete(installed, project, ["omnitron", "infra", "wait", ""]) == ["cache", "db", "search"]
    assert bash_complete(installed, project, ["omnitron", "run", "o"]) == ["orders", "outbox"]
    assert bash_complete(installed, project, ["omnitron", "infra", "env", "ord"]) == ["orders"]
    assert bash_complete(installed, project, ["omnitron", "infra", "up", "--stack", "st"]) == ["staging"]
    assert bash_complete(installed, project, ["omnitron", "infra", "psql", "--app", ""]) == ["orders", "outbox"]
    assert bash_complete(installed, project, ["omnitron", "backup", "restore", ""]) == ["20250101T000000Z-dev"]
    assert bash_complete(installed, project, ["omnitron", "infra", "logs", "--project", str(project), "c"]) == ["cache"]


def test_fish_completes_the_projects_names(installed, project):
    if shutil.which("fish") is None:
        unavailable("fish is not installed (scripts/setup-system installs it)")
    script = f'source "{installed["fish"]}"; complete -C "omnitron infra wait "; complete -C "omnitron infra env o"'
    result = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, cwd=project, env=shell_env(installed), timeout=60)
    assert result.returncode == 0, result.stderr
    words = sorted({line.split("\t")[0] for line in result.stdout.splitlines()})
    assert {"cache", "db", "search", "orders", "outbox"} <= set(words), result.stdout


def test_zsh_script_is_valid_zsh(installed):
    if shutil.which("zsh") is None:
        unavailable("zsh is not installed (scripts/setup-system installs it)")
    result = subprocess.run(["zsh", "-n", str(installed["zsh"])], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "__complete" in installed["zsh"].read_text()


def test_normal_commands_load_nothing_of_completion(project):
    code = "import sys; from omnitron.cli import main; main(['config', 'validate']); print(sorted(m for m in sys.modules if 'complet' in m))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
