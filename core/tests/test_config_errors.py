"""Malformed configs: each gives one line naming the file and the dotted path, exit code 2."""

import json

import pytest

pytestmark = pytest.mark.usefixtures("stand_in_providers")

SEARCH = {"ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}"}, "docker": {"image": "es:8"}}


def eco_py(body: str) -> dict[str, str]:
    return {"omnitron.config.py": f"from omnitron import define_ecosystem\necosystem = define_ecosystem({body})\n"}


def with_app(eco: dict, app_json: str) -> dict[str, str]:
    return {**eco_py(repr({**eco, "apps": [{"name": "web"}]})), "apps/web/config/default.json": app_json}


CASES = {
    "wrong type for ports": (eco_py("{'infrastructure': {'services': {'db': {'ports': {'main': 'five'}, 'docker': {'image': 'x'}}}}}"), "omnitron.config.py: infrastructure.services.db.ports.main: "),
    "port out of range": (eco_py("{'infrastructure': {'services': {'db': {'ports': {'main': 70000}, 'docker': {'image': 'x'}}}}}"), "omnitron.config.py: infrastructure.services.db.ports.main: port 70000 is out of range 1-65535"),
    "preset port out of range": (eco_py("{'infrastructure': {'services': {'db': {'preset': 'postgres', 'ports': {'main': 70000}}}}}"), "omnitron.config.py: infrastructure.services.db.ports.main: port 70000 is out of range 1-65535"),
    "port zero": (eco_py("{'infrastructure': {'services': {'db': {'ports': {'main': 0}, 'docker': {'image': 'x'}}}}}"), "infrastructure.services.db.ports.main: port 0 is out of range"),
    "boolean port": (eco_py("{'infrastructure': {'services': {'db': {'ports': {'main': True}, 'docker': {'image': 'x'}}}}}"), "infrastructure.services.db.ports.main: "),
    "unknown key in service": (eco_py("{'infrastructure': {'services': {'db': {'prots': {}, 'docker': {'image': 'x'}}}}}"), "omnitron.config.py: infrastructure.services.db.prots: unknown key"),
    "unknown top-level key": (eco_py("{'infrastucture': {}}"), "omnitron.config.py: infrastucture: unknown key"),
    "unknown preset": (eco_py("{'infrastructure': {'services': {'q': {'preset': 'rabbitmq'}}}}"), "omnitron.config.py: infrastructure.services.q.preset: unknown preset 'rabbitmq'"),
    "dependency cycle": (eco_py("{'infrastructure': {'services': {'a': {'dependsOn': ['b'], 'docker': {'image': 'x'}}, 'b': {'dependsOn': ['a'], 'docker': {'image': 'y'}}}}}"), "dependency cycle: a -> b -> a"),
    "unknown dependency": (eco_py("{'infrastructure': {'services': {'a': {'dependsOn': ['zz'], 'docker': {'image': 'x'}}}}}"), "infrastructure.services.a.dependsOn: depends on unknown service 'zz'"),
    "bad template function": (with_app({"infrastructure": {"services": {"s": {**SEARCH, "env": {"U": "${hots}"}}}}}, json.dumps({"omnitron": {"services": {"s": True}}})), "omnitron.config.py: infrastructure.services.s.env.U: app web: U='${hots}': unknown template function ${hots}"),
    "unterminated template": (with_app({"infrastructure": {"services": {"s": {**SEARCH, "env": {"U": "${host"}}}}}, json.dumps({"omnitron": {"services": {"s": True}}})), "unterminated placeholder"),
    "unknown port in template": (with_app({"infrastructure": {"services": {"s": {**SEARCH, "env": {"U": "${port:grpc}"}}}}}, json.dumps({"omnitron": {"services": {"s": True}}})), "omnitron.config.py: infrastructure.services.s.env.U: app web: U='${port:grpc}': unknown port 'grpc'"),
    "unnamed port in an app's own service": (with_app({}, json.dumps({"omnitron": {"infrastructure": {"s": {**SEARCH, "ports": {"http": 9200, "grpc": 9300}, "env": {"U": "${port}"}}}}})), "apps/web/config/default.json: omnitron.infrastructure.s.env.U: app web: U='${port}': ${port} needs a port name: one of grpc, http"),
    "bad duration": (eco_py("{'infrastructure': {'services': {'a': {'startupTimeout': '5 parsecs', 'docker': {'image': 'x'}}}}}"), "omnitron.config.py: infrastructure.services.a.startupTimeout: invalid duration '5 parsecs'"),
    "negative duration": (eco_py("{'infrastructure': {'services': {'a': {'startupTimeout': -5, 'docker': {'image': 'x'}}}}}"), "infrastructure.services.a.startupTimeout: a duration cannot be negative"),
    "unknown override target": (eco_py("{'infrastructure': {'services': {}}, 'stacks': {'dev': {'serviceOverrides': {'ghost': {'disabled': True}}}}}"), "omnitron.config.py: stacks.dev.serviceOverrides.ghost: unknown override target"),
    "plain string secret": (eco_py("{'infrastructure': {'services': {'a': {'secrets': {'pw': 'hunter2'}, 'docker': {'image': 'x'}}}}}"), "infrastructure.services.a.secrets.pw: a plain string is not allowed here"),
    "bad service type": (eco_py("{'infrastructure': {'services': {'a': {'type': 'queue', 'docker': {'image': 'x'}}}}}"), "infrastructure.services.a.type: "),
    "bad stack type": (eco_py("{'stacks': {'dev': {'type': 'laptop'}}}"), "omnitron.config.py: stacks.dev.type: "),
    "negative redis db offset": (eco_py("{'stacks': {'dev': {'redisDbOffset': -1}}}"), "stacks.dev.redisDbOffset: "),
    "env var name": (eco_py("{'infrastructure': {'services': {'a': {'env': {'1BAD': 'x'}, 'docker': {'image': 'x'}}}}}"), "infrastructure.services.a.env: invalid env variable name '1BAD'"),
    "static discovery without servers": (eco_py("{'infrastructure': {'services': {'a': {'bareMetal': {'discovery': 'static'}}}}}"), "infrastructure.services.a.bareMetal.servers: static discovery needs at least one server"),
    "static discovery with an empty servers list in a stack override": (eco_py("{'infrastructure': {'services': {'a': {'docker': {'image': 'x'}}}}, 'stacks': {'prod': {'type': 'remote', 'serviceOverrides': {'a': {'bareMetal': {'servers': []}}}}, 'dev': {}}, 'defaultStack': 'prod'}"), "omnitron.config.py: stacks.prod.serviceOverrides.a.bareMetal.servers: static discovery needs at least one server"),
    "relative volume target": (eco_py("{'infrastructure': {'services': {'a': {'docker': {'image': 'x', 'volumes': [{'source': 'v', 'target': 'data'}]}}}}}"), "infrastructure.services.a.docker.volumes.0.target: "),
    "missing image": (eco_py("{'infrastructure': {'services': {'a': {'docker': {'command': ['x']}}}}}"), "infrastructure.services.a.docker.image: docker.image is required"),
    "unknown network mode variant": (eco_py("{'stacks': {'dev': {'networkMode': 'mainnet'}}, 'infrastructure': {'services': {'a': {'docker': {'variants': {'regtest': {'image': 'x'}}}}}}}"), "infrastructure.services.a.docker.variants: no docker variant for network mode 'mainnet'"),
    "duplicate app": (eco_py("{'apps': [{'name': 'web'}, {'name': 'web'}]}"), "omnitron.config.py: apps: app 'web' is declared twice"),
    "bad app name": (eco_py("{'apps': [{'name': 'we b'}]}"), "omnitron.config.py: apps.0.name: "),
    "app json syntax": (with_app({}, '{"omnitron": {"database": tru}}'), "apps/web/config/default.json: invalid JSON at line 1"),
    "app wrong type": (with_app({}, json.dumps({"omnitron": {"redis": "yes please"}})), "apps/web/config/default.json: omnitron.redis: "),
    "app unknown key": (with_app({}, json.dumps({"omnitron": {"databse": True}})), "apps/web/config/default.json: omnitron.databse: unknown key"),
    "app bad quota": (with_app({}, json.dumps({"omnitron": {"s3": {"quota": "lots"}}})), "apps/web/config/default.json: omnitron.s3.quota: invalid size 'lots'"),
    "app bucket name": (with_app({}, json.dumps({"omnitron": {"s3": {"bucket": "Bad_Bucket"}}})), "apps/web/config/default.json: omnitron.s3.bucket: "),
    "python error in config": ({"omnitron.config.py": "from omnitron import define_ecosystem\nx = 1/0\n"}, "omnitron.config.py: line 2: ZeroDivisionError: division by zero"),
    "no ecosystem in config": ({"omnitron.config.py": "x = 1\n"}, "omnitron.config.py: no ecosystem declared"),
    "toml syntax": ({"omnitron.toml": "[infrastructure\n"}, "omnitron.toml: invalid TOML"),
    "toml wrong type": ({"omnitron.toml": "[stacks.dev]\nportOffsets = 'ten'\n"}, "omnitron.toml: stacks.dev.portOffsets: "),
    "legacy keys with services not a map": (eco_py("{'infrastructure': {'services': 1, 'redis': {}}}"), "omnitron.config.py: infrastructure: services: expected a map of service name to service"),
    "unknown stack port offset target": (eco_py("{'stacks': {'dev': {'portOffsets': {'nope': 10}}}}"), "omnitron.config.py: stacks.dev.portOffsets.nope: unknown service 'nope'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_config_gives_one_line(case, tmp_path, omnitron_cli):
    files, expected = CASES[case]
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = omnitron_cli("infra", "plan", "--project", str(tmp_path))
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert expected in lines[0], lines[0]
    assert result.out == ""


def test_there_are_at_least_twenty_kinds():
    assert len(CASES) >= 20


def test_missing_project_is_one_line(tmp_path, omnitron_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = omnitron_cli("infra", "plan")
    assert result.code == 2
    assert "no omnitron.config.py or omnitron.toml" in result.err


def test_the_typescript_originals_config_is_named_with_what_to_write_instead(tmp_path, omnitron_cli, monkeypatch):
    (tmp_path / "omnitron.config.ts").write_text("export default defineEcosystem({ infrastructure: { services: {} } });\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    found = omnitron_cli("infra", "plan")
    assert found.code == 2 and len(found.err.strip().splitlines()) == 1
    assert f"{tmp_path / 'omnitron.config.ts'} is not read: write it as omnitron.config.py with define_ecosystem" in found.err
    named = omnitron_cli("config", "validate", "--project", str(tmp_path / "omnitron.config.ts"))
    assert named.code == 2 and "Traceback" not in named.err
    assert named.err.startswith("omnitron: omnitron.config.ts: a TypeScript/JavaScript config is not read"), named.err
