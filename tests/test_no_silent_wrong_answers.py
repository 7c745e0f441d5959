"""No silent wrong answers: a shorthand on a disabled service, mysql extensions, and a native version not installed
are errors naming the file and field (or the version found and how to get the requested one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.installed_plugins
OMNITRON = [sys.executable, "-c", "from omnitron.cli import run; run()"]


def write(tmp_path, services, app, stacks=None):
    eco = {"project": "silent", "apps": [{"name": "web"}], "infrastructure": {"services": services}, "stacks": stacks or {"dev": {"provider": "process"}}}
    (tmp_path / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
    (tmp_path / "apps/web/config").mkdir(parents=True)
    (tmp_path / "apps/web/config/default.json").write_text(json.dumps({"omnitron": app}))


def omnitron(tmp_path, *args):
    env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(tmp_path / ".cfg"), "OMNITRON_PROJECT": str(tmp_path)}
    return subprocess.run([*OMNITRON, *args], capture_output=True, text=True, env=env, timeout=120)


def test_shorthand_on_a_disabled_service_is_a_config_error(tmp_path):
    write(tmp_path, {"db": {"preset": "postgres"}}, {"database": True}, {"dev": {"serviceOverrides": {"db": {"disabled": True}}}})
    result = omnitron(tmp_path, "infra", "plan")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "apps/web/config/default.json: omnitron.database: uses service 'db', which stack 'dev' disables" in result.stderr


def test_mysql_extensions_are_a_config_error(tmp_path):
    write(tmp_path, {}, {"database": {"dialect": "mysql", "extensions": ["pgcrypto"]}})
    result = omnitron(tmp_path, "infra", "plan")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "apps/web/config/default.json: omnitron.database.extensions: MySQL has no extensions" in result.stderr


def test_a_native_postgres_version_not_installed_is_refused(tmp_path):
    from omnitron.api import free_port

    write(tmp_path, {"db": {"preset": "postgres", "config": {"version": "99", "port": free_port()}}}, {})
    result = omnitron(tmp_path, "infra", "up", "--provider", "process")
    assert result.returncode == 1, result.stdout + result.stderr
    text = result.stdout + result.stderr
    assert "version 99 was asked for, but only" in text and "apt-get install postgresql-99" in text and "--provider docker" in text
    assert "Traceback" not in text
