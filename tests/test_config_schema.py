"""The JSON Schemas of ``config schema`` (checked with the jsonschema package) agree with ``config validate``.

Every config of the examples validates; every config the tests write (read
from their source) gets the same verdict from the schema as from omnitron's
models; a corpus of broken configs is refused by both.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

pytestmark = pytest.mark.installed_plugins

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def schemas() -> dict[str, jsonschema.Draft202012Validator]:
    out = {}
    for which in ("ecosystem", "app"):
        result = cli("config", "schema", "--which", which)
        assert result.returncode == 0, result.stderr
        schema = json.loads(result.stdout)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        out[which] = jsonschema.Draft202012Validator(schema)
    return out


def models_accept(eco: dict[str, Any] | None, apps: dict[str, Any]) -> bool:
    """What ``config validate`` decides at the model level: the ecosystem, every app config, every preset's config."""
    from omnitron.model import AppConfig, EcosystemConfig, PresetService
    from omnitron.plugins import PluginManager

    presets = PluginManager().presets
    try:
        entries = []
        if eco is not None:
            entries += list(EcosystemConfig.model_validate(eco).infrastructure.services.values())
        for app in apps.values():
            entries += list(AppConfig.model_validate(app).infrastructure.values())
        for entry in entries:
            if isinstance(entry, PresetService) and entry.preset in presets:
                presets[entry.preset].parse_config(entry.config)
    except ValidationError:
        return False
    return True


def schema_accepts(schemas, eco: dict[str, Any] | None, apps: dict[str, Any]) -> bool:
    if eco is not None and not schemas["ecosystem"].is_valid(eco):
        return False
    return all(schemas["app"].is_valid({"omnitron": app}) for app in apps.values())


def test_both_schemas_are_one_valid_schema_each(schemas):
    assert "PresetService" in schemas["ecosystem"].schema["$defs"] and "AppConfig" in schemas["app"].schema["$defs"]
    presets = [c["if"]["properties"]["preset"]["const"] for c in schemas["app"].schema["$defs"]["PresetService"]["allOf"]]
    assert {"postgres", "redis", "mysql", "mariadb", "tor"} <= set(presets)


def example_configs() -> list[tuple[str, dict | None, dict]]:
    from omnitron.loader import read_ecosystem_file

    found = []
    for config in sorted(ROOT.glob("examples/*/omnitron.config.py")) + sorted(ROOT.glob("examples/*/omnitron.toml")):
        apps = {p.parent.parent.name: json.loads(p.read_text()).get("omnitron", {}) for p in config.parent.glob("apps/*/config/default.json")}
        found.append((str(config.relative_to(ROOT)), read_ecosystem_file(config), apps))
    return found


def test_every_example_config_validates(schemas):
    examples = example_configs()
    assert len(examples) >= 3
    for name, eco, apps in examples:
        assert schema_accepts(schemas, eco, apps), name
        assert models_accept(eco, apps), name
        errors = [e.message for e in schemas["ecosystem"].iter_errors(eco)]
        assert errors == [], (name, errors)


def _module(path: Path) -> dict[str, Any]:
    """The test module's globals (its helpers build configs), or nothing when it cannot be imported here."""
    import importlib.util

    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"_schema_corpus_{abs(hash(str(path)))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)
    except (Exception, pytest.fail.Exception):  # a marker only its own package's conftest declares, a missing import
        return {}
    finally:
        sys.path.remove(str(path.parent))


def configs_in_tests() -> list[tuple[str, dict | None, dict]]:
    """The configs tests write: each ``*.write(ECOSYSTEM, {APP: CONFIG})`` call whose arguments can be computed from the module alone."""
    found = []
    for path in sorted([*ROOT.glob("core/tests/test_*.py"), *ROOT.glob("tests/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]):
        if path.name == Path(__file__).name:
            continue
        namespace: dict[str, Any] | None = None
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.func.attr != "write" or not node.args or len(node.args) > 2:
                continue
            if namespace is None:
                namespace = _module(path)
            try:
                eco, apps = (eval(compile(ast.fix_missing_locations(ast.Expression(a)), str(path), "eval"), dict(namespace)) for a in (*node.args, ast.Dict([], []))[:2])
            except Exception:  # a test's local variable or fixture: not computable here
                continue
            if isinstance(eco, dict) and isinstance(apps, dict) and all(isinstance(a, dict) for a in apps.values()):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", json.loads(json.dumps(eco, default=str)), json.loads(json.dumps(apps, default=str))))
        found += [(f"{path.relative_to(ROOT)}:{name}", eco, apps) for name, eco, apps in project_files(namespace if namespace is not None else _module(path))]
    return found


def project_files(namespace: dict[str, Any]) -> list[tuple[str, dict, dict]]:
    """Projects a module holds as files (``{"omnitron.config.py": SOURCE, "apps/web/config/default.json": TEXT}``, as config error cases do)."""
    out: list[tuple[str, dict, dict]] = []

    def visit(value: Any, where: str) -> None:
        if isinstance(value, dict) and isinstance(value.get("omnitron.config.py"), str):
            call = next((n for n in ast.walk(ast.parse(value["omnitron.config.py"])) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "define_ecosystem"), None)
            try:
                eco = ast.literal_eval(call.args[0]) if call is not None else None
                apps = {key.split("/")[1]: json.loads(text).get("omnitron", {}) for key, text in value.items() if key.endswith("config/default.json")}
            except (ValueError, SyntaxError, AttributeError, IndexError):
                return  # not literal, or JSON broken on purpose (the loader's concern, not the schema's)
            if isinstance(eco, dict):
                out.append((where, eco, apps))
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{where}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                visit(item, f"{where}[{i}]")

    for name, value in namespace.items():
        if name.isupper():
            visit(value, name)
    return out


def test_the_schemas_agree_with_the_models_on_every_config_the_tests_write(schemas):
    configs = configs_in_tests()
    assert len(configs) >= 70
    disagreements = [(where, models_accept(eco, apps)) for where, eco, apps in configs if models_accept(eco, apps) != schema_accepts(schemas, eco, apps)]
    # JSON Schema cannot say "no two items of apps have the same name": the models alone refuse that one
    assert [where for where, _ in disagreements if not where.endswith("['duplicate app'][0]")] == []
    assert 30 <= sum(models_accept(eco, apps) for _, eco, apps in configs) < len(configs)  # valid ones and broken ones


BROKEN_ECOSYSTEMS = {
    "port out of range": {"infrastructure": {"services": {"db": {"ports": {"main": 70000}, "docker": {"image": "x"}}}}},
    "preset port out of range": {"infrastructure": {"services": {"db": {"preset": "postgres", "ports": {"main": 70000}}}}},
    "unknown key": {"infrastucture": {}},
    "unknown service key": {"infrastructure": {"services": {"db": {"prots": {}, "docker": {"image": "x"}}}}},
    "bad duration": {"infrastructure": {"services": {"a": {"startupTimeout": "5 parsecs", "docker": {"image": "x"}}}}},
    "negative duration": {"infrastructure": {"services": {"a": {"startupTimeout": -5, "docker": {"image": "x"}}}}},
    "bad stack type": {"stacks": {"dev": {"type": "laptop"}}},
    "plain string secret": {"infrastructure": {"services": {"a": {"secrets": {"pw": "hunter2"}, "docker": {"image": "x"}}}}},
    "postgres config typo": {"infrastructure": {"services": {"db": {"preset": "postgres", "config": {"extentions": ["pgcrypto"]}}}}},
    "redis config bad policy": {"infrastructure": {"services": {"c": {"preset": "redis", "config": {"maxmemoryPolicy": "sometimes"}}}}},
    "mysql config bad port": {"infrastructure": {"services": {"m": {"preset": "mysql", "config": {"port": 0}}}}},
    "empty command": {"infrastructure": {"services": {"a": {"docker": {"image": "x", "command": []}}}}},
    "bad app name": {"apps": [{"name": "we b"}]},
}
BROKEN_APPS = {
    "app unknown key": {"databse": True},
    "app wrong type": {"redis": "yes please"},
    "app bad bucket": {"s3": {"bucket": "UPPER_case"}},
    "app bad quota": {"s3": {"quota": "lots"}},
    "app preset config": {"infrastructure": {"pg": {"preset": "postgres", "config": {"port": "high"}}}},
}


@pytest.mark.parametrize("name", [*BROKEN_ECOSYSTEMS, *BROKEN_APPS])
def test_a_broken_config_is_refused_by_the_schema_and_by_config_validate(schemas, name, tmp_path):
    eco = BROKEN_ECOSYSTEMS.get(name, {"apps": [{"name": "web"}]})
    apps = {"web": BROKEN_APPS[name]} if name in BROKEN_APPS else {}
    assert not schema_accepts(schemas, eco, apps)
    assert not models_accept(eco, apps)
    (tmp_path / "omnitron.toml").write_text(__import__("tomli_w").dumps(eco))
    for app, config in apps.items():
        (tmp_path / "apps" / app / "config").mkdir(parents=True)
        (tmp_path / "apps" / app / "config" / "default.json").write_text(json.dumps({"omnitron": config}))
    result = cli("config", "validate", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def test_durations_sizes_and_commands_as_strings(schemas):
    eco = {"infrastructure": {"services": {"a": {"startupTimeout": "30s", "healthCheck": {"timeout": "500ms", "command": {"exec": "pg_isready -q"}}, "docker": {"image": "x", "command": "redis-server --port 1"}}}}, "stacks": {"dev": {"serviceOverrides": {"a": {"startupTimeout": "2m"}}}}}
    assert schema_accepts(schemas, eco, {"web": {"s3": {"quota": "10gb"}, "migrate": "python migrate.py"}})
    assert models_accept(eco, {"web": {"s3": {"quota": "10gb"}, "migrate": "python migrate.py"}})
