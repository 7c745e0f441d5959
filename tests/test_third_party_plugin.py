"""A third-party plugin built as a real distribution, installed, and used by the CLI."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "omnitron-acme"
version = "3.1.4"
dependencies = []

[project.entry-points.omnitron]
acme = "omnitron_acme.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/omnitron_acme"]
"""

PLUGIN = '''
"""The acme plugin: a message-queue preset and a ${upper:...} template function."""

from omnitron import hookimpl
from omnitron.model import DockerServiceConfig, ServiceRequirement
from omnitron.presets import Preset, PresetConfig
from omnitron.templating import TemplateFunction


class QueueConfig(PresetConfig):
    port: int = 5672
    vhost: str = "main"


class QueuePreset(Preset):
    name = "acme-queue"
    service_type = "daemon"
    config_model = QueueConfig

    def expand(self, config, ctx):
        return ServiceRequirement(
            ports={"amqp": config.port},
            env={"QUEUE_URL": "amqp://${host}:${port:amqp}/" + config.vhost, "QUEUE_TAG": "${upper:" + ctx.service + "}"},
            docker=DockerServiceConfig(image="acme/queue:1"),
        )


class Upper(TemplateFunction):
    name = "upper"
    takes_argument = True

    def render(self, arg, ctx):
        return arg.upper()


@hookimpl
def omnitron_add_presets():
    return [QueuePreset]


@hookimpl
def omnitron_add_template_functions():
    return [Upper]
'''


def _installer() -> list[str]:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        return [uv, "pip", "install", "--python", sys.executable, "--quiet"]
    return [sys.executable, "-m", "pip", "install", "--quiet"]


def _uninstaller() -> list[str]:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        return [uv, "pip", "uninstall", "--python", sys.executable, "--quiet"]
    return [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet"]


@pytest.fixture
def acme_installed(tmp_path):
    src = tmp_path / "omnitron-acme"
    pkg = src / "src" / "omnitron_acme"
    pkg.mkdir(parents=True)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "__init__.py").write_text("")
    (pkg / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    subprocess.run([*_installer(), str(src)], check=True, timeout=300)
    yield
    subprocess.run([*_uninstaller(), "omnitron-acme"], check=True, timeout=120)


def omnitron(*args, cwd=None):
    exe = Path(sys.executable).parent / "omnitron"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNITRON_PLUGINS")}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_third_party_plugin_is_listed_and_used(acme_installed, tmp_path):
    listed = omnitron("plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    acme = next(p for p in json.loads(listed.stdout) if p["name"] == "acme")
    assert acme["distribution"] == "omnitron-acme" and acme["version"] == "3.1.4"
    assert acme["provides"] == {"presets": ["acme-queue"], "templateFunctions": ["upper"]}
    assert sorted(acme["hooks"]) == ["omnitron_add_presets", "omnitron_add_template_functions"]

    proj = tmp_path / "proj"
    (proj / "apps" / "worker" / "config").mkdir(parents=True)
    (proj / "omnitron.toml").write_text('[[apps]]\nname = "worker"\n\n[infrastructure.services.jobs]\npreset = "acme-queue"\nconfig = { vhost = "jobs" }\n')
    (proj / "apps" / "worker" / "config" / "default.json").write_text(json.dumps({"omnitron": {"services": {"jobs": True}}}))
    planned = omnitron("infra", "plan", "--json", cwd=proj)
    assert planned.returncode == 0, planned.stderr
    data = json.loads(planned.stdout)
    jobs = next(s for s in data["services"] if s["name"] == "jobs")
    assert jobs["preset"] == "acme-queue" and jobs["docker"]["image"] == "acme/queue:1"
    env = data["apps"]["worker"]["renderedEnv"]
    assert env == {"PORT": "<pending>", "QUEUE_URL": "amqp://127.0.0.1:5672/jobs", "QUEUE_TAG": "JOBS"}  # PORT: allocated on the first up

    version = omnitron("--version")
    assert "acme 3.1.4" in version.stdout

    blocked = subprocess.run([str(Path(sys.executable).parent / "omnitron"), "infra", "plan"], capture_output=True, text=True, cwd=proj, env={**os.environ, "OMNITRON_DISABLE_PLUGINS": "acme"}, timeout=120)
    assert blocked.returncode == 2
    assert "unknown preset 'acme-queue'" in blocked.stderr
