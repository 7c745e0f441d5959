"""The pytest plugin for app tests, run as a user runs it: a project of their own, ``python -m pytest`` in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from omnitron.testing import free_port_offset

pytestmark = pytest.mark.installed_plugins

TESTS = '''
import psycopg
import pytest


@pytest.mark.omnitron_app("billing")
def test_billing_gets_a_clone_of_its_migrated_database(omnitron_database, omnitron_stack):
    with psycopg.connect(omnitron_database.url) as conn:
        assert conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 1  # the migration's seed row
        conn.execute("INSERT INTO invoices VALUES (2)")
    assert omnitron_database.name.startswith("billing_t") and omnitron_database.service == "db"
    assert omnitron_stack.name == "test" and omnitron_stack.services["db"].url.startswith("postgresql://")


@pytest.mark.omnitron_app("billing")
def test_and_the_next_test_another_one(omnitron_database):
    import os

    assert os.environ["DATABASE_URL"] == omnitron_database.url
    with psycopg.connect(omnitron_database.url) as conn:
        assert conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 1
        assert conn.execute("SHOW fsync").fetchone()[0] == "off"  # a stack only tests use


def test_without_saying_which_app(omnitron_database):
    pass
'''


def test_fixtures_in_a_users_project(tmp_path: Path):
    offset = free_port_offset([5432], lowest=10000)
    eco = {"project": f"apt{uuid.uuid4().hex[:6]}", "apps": [{"name": "billing"}, {"name": "web"}], "infrastructure": {"services": {"db": {"preset": "postgres"}}}, "stacks": {"dev": {}, "test": {"portOffsets": offset}}}
    (tmp_path / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
    migrate = "import os, psycopg\nwith psycopg.connect(os.environ['DATABASE_URL']) as c:\n    c.execute('CREATE TABLE IF NOT EXISTS invoices (id int)')\n    c.execute('INSERT INTO invoices SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM invoices)')\n"
    for app, config in (("billing", {"database": True, "migrate": [sys.executable, "migrate.py"]}), ("web", {"database": True})):
        (tmp_path / "apps" / app / "config").mkdir(parents=True)
        (tmp_path / "apps" / app / "config" / "default.json").write_text(json.dumps({"omnitron": config}))
    (tmp_path / "apps" / "billing" / "migrate.py").write_text(migrate)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_billing.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNITRON_PROJECT", "PYTEST_"))}
    env.update(OMNITRON_SECRET_KEY=os.urandom(32).hex(), OMNITRON_CONFIG_DIR=str(tmp_path / ".user-config"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert "2 passed" in result.stdout and "1 error" in result.stdout, result.stdout + result.stderr
    assert "omnitron: the project has 2 apps (billing, web): say which with @pytest.mark.omnitron_app(NAME)" in result.stdout
    status = subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", "infra", "status", "--stack", "test", "--json"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert all(s["status"] == "not_found" for s in json.loads(status.stdout)["services"].values()), status.stdout  # brought down after the session
