"""The CLI skeleton: version, config schema and validate, plan output."""

import json

import pytest

from omnitron import __version__

pytestmark = pytest.mark.usefixtures("stand_in_providers")


def test_version_lists_plugins(omnitron_cli, capsys):
    result = omnitron_cli("--version")
    assert result.code == 0
    assert result.out.startswith(f"omnitron {__version__}")


def test_config_schema_prints_one_schema_per_file(omnitron_cli, kv):
    eco = omnitron_cli("config", "schema").json()
    assert eco == omnitron_cli("config", "schema", "--which", "ecosystem").json()
    assert eco["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"infrastructure", "stacks", "apps"} <= set(eco["properties"])
    text = json.dumps(eco)
    for key in ("dependsOn", "startupTimeout", "serviceOverrides", "portOffsets", "redisDbOffset", "networkMode", "bareMetal", "readOnly", "variants"):
        assert key in text, key
    app = omnitron_cli("config", "schema", "--which", "app").json()
    assert app["properties"]["omnitron"] == {"$ref": "#/$defs/AppConfig"} and "DatabaseRequest" in app["$defs"]
    refs = {r for r in json.dumps(app).split('"$ref": "')[1:]}
    assert all(r.split('"')[0].removeprefix("#/$defs/") in app["$defs"] for r in refs)  # every reference resolves in the document
    config_of_kv = [c for c in eco["$defs"]["PresetService"]["allOf"] if c["if"]["properties"]["preset"]["const"] == "kv"]
    assert config_of_kv and eco["$defs"][config_of_kv[0]["then"]["properties"]["config"]["$ref"].rsplit("/", 1)[1]]["properties"]["port"]
    assert omnitron_cli("config", "schema", "--which", "all").code == 2



def test_config_validate_ok_and_json(omnitron_project, omnitron_cli, kv):
    project = omnitron_project.write({"infrastructure": {"services": {"cache": {"preset": "kv"}}}, "stacks": {"dev": {}, "ci": {"portOffsets": 5}}}, {"web": {"redis": True}})
    result = omnitron_cli("config", "validate", "--project", str(project.root), "--json")
    assert result.code == 0, result.err
    assert result.json()["stacks"] == {"ci": 1, "dev": 1}


def test_plan_json_shape(omnitron_project, omnitron_cli):
    search = {"ports": {"http": 9200}, "env": {"SEARCH_URL": "http://${host}:${port:http}"}, "docker": {"image": "es:8"}}
    project = omnitron_project.write({"infrastructure": {"services": {"search": search}}, "stacks": {"dev": {"portOffsets": 7}}}, {"web": {"services": {"search": True}}})
    data = omnitron_cli("infra", "plan", "--project", str(project.root), "--json", "--provider", "docker").json()
    svc = data["services"][0]
    assert (svc["name"], svc["provider"], svc["ports"], svc["bindAddress"]) == ("search", "docker", {"http": 9207}, "127.0.0.1")
    assert data["apps"]["web"]["renderedEnv"] == {"PORT": "<pending>", "SEARCH_URL": "http://127.0.0.1:9207"}  # PORT: allocated on the first up


def test_bad_cli_usage_exits_non_zero(omnitron_cli):
    result = omnitron_cli("infra", "plan", "--no-such-flag")
    assert result.code != 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["infra", "plan", "--no-such-flag"], "omnitron: Unknown option: --no-such-flag. (see `omnitron infra plan --help`)"),
        (["infra", "logs", "-n", "many"], 'omnitron: Invalid value for -n: unable to convert "many" into int. (see `omnitron infra logs --help`)'),
        (["infra", "bogus"], "(see `omnitron infra --help`)"),
        (["bogus"], "(see `omnitron --help`)"),
    ],
)
def test_a_command_line_mistake_is_one_line_naming_the_help_to_read(omnitron_cli, argv, said):
    result = omnitron_cli(*argv)
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and said in result.err and "╭" not in result.err, result.err
