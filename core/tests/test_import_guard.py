"""What the cheap commands import: none of the heavy libraries they do not use.

A behaviour test, not a timed one: each command runs in a fresh interpreter
(:func:`omnitron.testing.modules_imported_by`) and the modules it imported are
checked. A library that creeps back onto one of these paths (a driver imported
at module level, a console built for JSON output) fails here, whatever the
machine's speed.
"""

from __future__ import annotations

import os

import pytest

from _tcp import tcp_server
from omnitron.testing import modules_imported_by

DRIVERS = {"psycopg", "redis", "aiohttp", "aiodocker", "pymysql", "httpx"}
"""Client libraries of the servers omnitron runs: only the code talking to that server may load one."""


@pytest.fixture
def env(omnitron_isolated):
    return {**os.environ, "OMNITRON_PLUGINS": ""}


def _project(root, port: int) -> None:
    eco = {
        "project": "guard",
        "apps": [{"name": "web"}],
        "infrastructure": {"services": {"api": {
            "ports": {"main": 1},
            "env": {"API_URL": "http://u:${secret:token}@${host}:${port:main}"},
            "secrets": {"token": {"secret": "guard/token"}},
            "docker": {"image": "example/api:1"},
            "healthCheck": {"tcp": {"port": "main"}},
        }}},
        "stacks": {"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"main": port}}}}}},
    }
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    cfg = root / "apps" / "web" / "config"
    cfg.mkdir(parents=True)
    (cfg / "default.json").write_text('{"omnitron": {"services": {"api": true}}}')


@pytest.fixture
def listening():
    """A TCP server that keeps the connections it accepts open (what the tcp probe counts as up)."""
    with tcp_server(keep=True) as port:
        yield port


def test_help_loads_no_models_no_event_loop_no_crypto(env):
    code, imported = modules_imported_by(["--help"], env=env)
    assert code == 0
    assert not imported & ({"pydantic", "pydantic_core", "anyio", "cryptography", "sqlite3"} | DRIVERS)


def test_plan_json_reads_no_secret_and_builds_no_console(env, tmp_path, listening):
    _project(tmp_path, listening)
    code, _ = modules_imported_by(["secret", "set", "guard/token", "s3cret-value", "--project", str(tmp_path)], env=env)
    assert code == 0
    code, imported = modules_imported_by(["infra", "plan", "--json", "--project", str(tmp_path)], env=env)
    assert code == 0
    assert "pydantic" in imported  # the plan was really made
    assert not imported & ({"cryptography", "rich"} | DRIVERS)


def test_up_and_status_json_load_no_driver_no_console_and_no_crypto_without_a_secret_to_read(env, tmp_path, listening):
    """An external server probed over TCP: nothing to decrypt (its env is rendered only for apps), nothing to draw."""
    _project(tmp_path, listening)
    modules_imported_by(["secret", "set", "guard/token", "s3cret-value", "--project", str(tmp_path)], env=env)
    for argv in (["infra", "up", "--json"], ["infra", "up"], ["infra", "status", "--json"]):  # "up" prints to a pipe: plain text
        code, imported = modules_imported_by([*argv, "--project", str(tmp_path)], env=env)
        assert code == 0, argv  # 1 when the service was not found healthy
        assert "anyio" in imported  # the engine ran
        assert not imported & ({"rich", "cryptography"} | DRIVERS), argv


def test_env_with_secrets_shown_reads_the_store(env, tmp_path, listening):
    _project(tmp_path, listening)
    modules_imported_by(["secret", "set", "guard/token", "s3cret-value", "--project", str(tmp_path)], env=env)
    code, imported = modules_imported_by(["infra", "env", "web", "--show-secrets", "--project", str(tmp_path)], env=env)
    assert code == 0 and "cryptography" in imported


def test_the_checker_sees_what_a_command_imports(env):
    """The check itself can fail: a command that does import a heavy library is seen doing so."""
    code, imported = modules_imported_by(["config", "schema"], env=env)
    assert code == 0 and "pydantic" in imported


def test_up_as_the_script_runs_it_builds_no_command_line_parser(env, tmp_path, listening):
    """``infra up`` (with ``--provider``, ``--no-daemon``, plan cache off so it really plans) runs without cyclopts; other spellings still parse."""
    _project(tmp_path, listening)
    modules_imported_by(["secret", "set", "guard/token", "s3cret-value", "--project", str(tmp_path)], env=env)
    cold = {**env, "OMNITRON_PLAN_CACHE": "off"}
    for argv in (["infra", "up", "--no-daemon", "--provider", "auto", "--project", str(tmp_path)], ["infra", "up", "--json", "--no-daemon", f"--project={tmp_path}", "-s", "dev"]):
        code, imported = modules_imported_by(argv, env=cold, script=True)
        assert code == 0, argv
        assert "pydantic" in imported and "anyio" in imported  # planned and provisioned
        assert "cyclopts" not in imported, argv
    code, imported = modules_imported_by(["infra", "up", "--no-daemon", "--provider", "auto", "--provider", "auto", "--project", str(tmp_path)], env=cold, script=True)
    assert "cyclopts" in imported  # a repeated option is the normal command line's to judge


def test_up_by_the_script_ends_a_config_error_in_one_line(env, tmp_path):
    (tmp_path / "omnitron.config.py").write_text("from omnitron import define_ecosystem\n\necosystem = define_ecosystem({'project': 'bad', 'stacks': 3})\n")
    from omnitron.testing import run_script

    done = run_script(["infra", "up", "--no-daemon", "--project", str(tmp_path)], env={**env, "OMNITRON_PLAN_CACHE": "off"})
    assert done.code == 2, done
    assert "Traceback" not in done.err and len(done.err.strip().splitlines()) == 1, done.err
    assert "cyclopts" not in done.modules


def test_an_option_before_up_is_refused_by_the_script_as_by_the_command_line(env, tmp_path, listening):
    """``omnitron --project DIR infra up`` is not a command line cyclopts reads: the script does not run it either."""
    from omnitron.testing import run_script

    _project(tmp_path, listening)
    cold = {**env, "OMNITRON_PLAN_CACHE": "off"}
    for argv in (["--project", str(tmp_path), "infra", "up", "--no-daemon"], ["infra", "--json", "up", "--no-daemon", "-p", str(tmp_path)]):
        done = run_script(argv, env=cold)
        code, _ = modules_imported_by(argv, env=cold)
        assert done.code == code == 2, (argv, done)
        assert done.out == "" and "Unknown command" in done.err, done
