"""Every ``--json`` output: camelCase keys, and each documented by a schema in docs/schemas/ that it validates against.

The commands run for real (child processes, the core's own backup path with a
small preset that keeps a file), and what they print is checked with the
jsonschema package against the committed schema.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest

from _engine_support import ChildProcessPlugin, ChildProcessProvider, http_service
from omnitron import hookimpl
from omnitron.hostports import free_port
from omnitron.model import ServiceRequirement
from omnitron.presets import BackupFile, Preset, PresetConfig
from omnitron.runtime import exec_bytes

pytestmark = pytest.mark.usefixtures("omnitron_isolated")

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")

COMMANDS = {
    "infra_cmd:plan": "plan", "infra_run:up_cmd": "up", "infra_run:reset_cmd": "up", "infra_run:down_cmd": "down",
    "infra_run:status_cmd": "status", "infra_run:ps_cmd": "status", "infra_wait:wait_cmd": "wait", "config_cmd:validate": "config-validate",
    "plugins_cmd:list_plugins": "plugins-list", "secret_cmd:set_cmd": "secret-set", "secret_cmd:get_cmd": "secret-get", "secret_cmd:list_cmd": "secret-list",
    "secret_cmd:rm_cmd": "secret-rm", "secret_cmd:rotate_key_cmd": "secret-rotate-key", "backup_cmd:create_cmd": "backup-create",
    "backup_cmd:list_cmd": "backup-list", "backup_cmd:restore_cmd": "backup-restore",
}
"""module:function of every command with --json -> its schema (docs/schemas/NAME.json)."""
DAEMON_COMMANDS = {
    "daemon_cmd:start_cmd", "daemon_cmd:stop_cmd", "daemon_cmd:status_cmd",
    "infra_keep:events_cmd", "infra_keep:endpoints_cmd", "infra_keep:prune_cmd", "infra_keep:reconcile_cmd",
}
"""The daemon's commands: their shapes are those of its API (core/src/omnitron/daemon/openapi.yaml), not yet a schema each here."""


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check(name: str, data) -> None:
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_every_command_with_json_has_a_schema_and_every_schema_a_command():
    with_json = set()
    for path in sorted((ROOT / "core" / "src" / "omnitron" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and any(a.arg == "json" for a in node.args.kwonlyargs):
                with_json.add(f"{path.stem}:{node.name}")
    assert with_json == set(COMMANDS) | DAEMON_COMMANDS
    assert {p.stem for p in SCHEMAS.glob("*.json")} == {*COMMANDS.values(), "env", "backup-manifest", "tor"}  # tor: omnitron-tor's command, checked by the onion example's test


def test_schemas_spell_every_key_in_camel_case():
    def keys(node, out):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "properties":
                    out.update(v)
                    for sub in v.values():
                        keys(sub, out)
                elif k == "required":
                    out.update(v)
                else:
                    keys(v, out)
        elif isinstance(node, list):
            for v in node:
                keys(v, out)
        return out

    for path in SCHEMAS.glob("*.json"):
        bad = sorted(k for k in keys(json.loads(path.read_text()), set()) if not CAMEL.match(k))
        assert bad == [], (path.name, bad)


class NotesConfig(PresetConfig):
    path: str
    port: int


class NotesPreset(Preset):
    """A service whose data is one file: backed up and restored through the engine's exec, as real presets do."""

    name = "notes"
    service_type = "daemon"
    config_model = NotesConfig

    def expand(self, config, ctx):
        return ServiceRequirement.model_validate(http_service(config.port))

    async def backup(self, service):
        return [BackupFile("notes.txt", await exec_bytes(service, ["cat", service.service.config["path"]]), "notes", {"lines": "?"})]

    async def restore(self, service, files):
        result = await service.exec(["sh", "-c", 'cat > "$1"', "restore", service.service.config["path"]], input=files[0].data)
        assert result.exit_code == 0, result.output


class NotesPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [NotesPreset]


@pytest.fixture
def project(omnitron_project, register_plugin, tmp_path):
    register_plugin(ChildProcessPlugin(), name="child-process")
    register_plugin(NotesPlugin(), name="notes")
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"first note\n\x00\xff binary too\n")
    eco = {"project": "jsonout", "infrastructure": {"services": {"api": http_service(free_port()), "notes": {"preset": "notes", "config": {"path": str(notes), "port": free_port()}}}}, "stacks": {"dev": {"provider": "process"}}}
    yield omnitron_project.write(eco, {"web": {"services": {"api": True}}}), notes
    ChildProcessProvider.stop_all()


def test_every_json_output_validates_against_its_schema(project, omnitron_cli, monkeypatch):
    proj, notes = project
    monkeypatch.setenv("OMNITRON_PROJECT", str(proj.root))

    def run(schema: str, *args: str, code: int = 0):
        result = omnitron_cli(*args, "--json")
        assert result.code == code, (args, result.out, result.err)
        data = result.json()
        check(schema, data)
        return data

    run("status", "infra", "status")
    run("wait", "infra", "wait", "--timeout", "100ms", code=1)
    up = run("up", "infra", "up")
    assert up["services"]["api"]["state"]["containerId"]  # the same spelling as status
    assert "container_id" not in json.dumps(up)
    status = run("status", "infra", "ps")
    assert status["services"]["api"]["containerId"] == up["services"]["api"]["state"]["containerId"]
    run("wait", "infra", "wait")
    plan = run("plan", "infra", "plan")
    assert plan["services"][0]["bindAddress"] == "127.0.0.1" and "renderedEnv" in plan["apps"]["web"]
    run("config-validate", "config", "validate")
    run("plugins-list", "plugins", "list")
    env = omnitron_cli("infra", "env", "web", "--format", "json")
    check("env", json.loads(env.out))
    run("secret-set", "secret", "set", "token", "abc")
    run("secret-get", "secret", "get", "token")
    run("secret-list", "secret", "list")
    run("secret-rm", "secret", "rm", "token")
    run("secret-rotate-key", "secret", "rotate-key")
    made = run("backup-create", "backup", "create")
    assert list(made["services"]) == ["notes"] and made["skipped"]["api"].startswith("a custom service")
    check("backup-manifest", json.loads((Path(made["path"]) / "manifest.json").read_text()))
    listed = run("backup-list", "backup", "list")
    assert [b["id"] for b in listed["backups"]] == [made["id"]]
    notes.write_bytes(b"changed since\n")
    restored = run("backup-restore", "backup", "restore", "--yes")
    assert restored["restored"] == ["notes"] and notes.read_bytes() == b"first note\n\x00\xff binary too\n"
    run("up", "infra", "reset", "--yes")
    run("down", "infra", "down")
