"""The CLI skeleton: version, config schema and validate, plan output."""

import json

import pytest

from omnitron import __version__

pytestmark = pytest.mark.usefixtures("stand_in_providers")


def test_version_lists_plugins(omnitron_cli, capsys):
    result = omnitron_cli("--version")
    assert result.code == 0
    assert result.out.startswith(f"omnitron {__version__}")


def test_config_schema_covers_both_files(omnitron_cli):
    result = omnitron_cli("config", "schema")
    assert result.code == 0
    schema = result.json()
    eco, app = schema["ecosystem"], schema["app"]
    assert {"infrastructure", "stacks", "apps"} <= set(eco["properties"])
    assert "omnitron" in app["properties"]
    text = json.dumps(schema)
    for key in ("dependsOn", "startupTimeout", "serviceOverrides", "portOffsets", "redisDbOffset", "networkMode", "bareMetal", "readOnly", "variants"):
        assert key in text, key
    only_app = omnitron_cli("config", "schema", "app").json()
    assert only_app["title"] == "config/default.json"


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
    assert (svc["name"], svc["provider"], svc["ports"], svc["bind_address"]) == ("search", "docker", {"http": 9207}, "127.0.0.1")
    assert data["apps"]["web"]["rendered_env"] == {"PORT": "<pending>", "SEARCH_URL": "http://127.0.0.1:9207"}  # PORT: allocated on the first up


def test_bad_cli_usage_exits_non_zero(omnitron_cli):
    result = omnitron_cli("infra", "plan", "--no-such-flag")
    assert result.code != 0
