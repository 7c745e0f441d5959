"""What the planner makes of a gateway: the spec hash and the config digest, its own Redis, bad declarations."""

from __future__ import annotations

import pytest


def eco(gateway=None, services=None, stack=None, legacy=False):
    config = {"configDir": "./infra/nginx", **(gateway or {})}
    infra = {"services": dict(services or {})}
    if legacy:
        infra["gateway"] = config
    else:
        infra["services"]["gateway"] = {"preset": "openresty", "config": config}
    return {"project": "plan", "apps": [{"name": "orders"}, {"name": "inventory"}], "infrastructure": infra, "stacks": {"dev": {"provider": "process", **(stack or {})}}}


APPS = {"orders": {"services": {"gateway": True}, "redis": True}, "inventory": {"redis": True}}
REDIS = {"preset": "redis", "config": {"port": 6390}}


def write(omnitron_project, **kw):
    project = omnitron_project.write(eco(**kw), APPS if "services" in kw else {"orders": {"services": {"gateway": True}}, "inventory": {}})
    site = project.root / "infra" / "nginx" / "site.conf"
    site.parent.mkdir(parents=True, exist_ok=True)
    if not site.exists():
        site.write_text("server { include omnitron/server.conf; }\n")
    return project, site


@pytest.mark.parametrize("provider", ["process", "docker"])
def test_a_config_change_changes_the_config_digest_not_the_spec_hash(omnitron_project, provider):
    project, site = write(omnitron_project, stack={"provider": provider})
    before = project.plan().service("gateway")
    assert before.reload_paths == [str(site.parent)]
    site.write_text("server { include omnitron/server.conf; location = /x { return 204; } }\n")
    after = project.plan().service("gateway")
    assert after.spec_hash == before.spec_hash and after.config_digest != before.config_digest
    # what the gateway itself reads from the files directory is output: digested nowhere
    files = project.files_dir("dev", "gateway")
    files.mkdir(parents=True)
    (files / "nginx.conf").write_text("# something else")
    assert project.plan().service("gateway").spec_hash == after.spec_hash


def test_a_changed_port_is_a_new_spec(omnitron_project):
    project, _ = write(omnitron_project)
    first = project.plan().service("gateway").spec_hash
    project, _ = write(omnitron_project, gateway={"port": 9090})
    assert project.plan().service("gateway").spec_hash != first


def test_the_gateway_gets_its_own_redis_binding_apps_get_gateway_url(omnitron_project):
    project, _ = write(omnitron_project, gateway={"redis": True}, services={"cache": REDIS})
    plan = project.plan()
    gateway = plan.service("gateway")
    assert gateway.depends_on == ["cache"]
    assert gateway.env_from["REDIS_URL"].service == "cache"
    [request] = gateway.allocations
    assert (request.app, request.service, request.kind, request.name) == ("service:gateway", "cache", "redis_db", "service:gateway")
    assert plan.apps["orders"].env["GATEWAY_URL"].template == "http://${host}:${port:http}" and "GATEWAY_URL" not in plan.apps["inventory"].env
    assert {a.app for a in plan.apps["orders"].allocations} == {"orders"}


def test_several_redis_services_need_a_name_and_an_unknown_one_is_refused(omnitron_cli, omnitron_project):
    two = {"cache": REDIS, "other": {"preset": "redis", "config": {"port": 6391}}}

    def plan_with(redis):
        project = omnitron_project.write(eco(gateway={"redis": redis}, services=two), {"orders": {}, "inventory": {}})
        return project, omnitron_cli("infra", "plan", "--project", str(project.root))

    _, result = plan_with(True)
    assert result.code == 2
    assert result.err.strip() == 'omnitron: omnitron.config.py: infrastructure.services.gateway.config.redis: several redis services (cache, other): say which with "service"'
    _, result = plan_with({"service": "nope"})
    assert result.code == 2 and "infrastructure.services.gateway.config.redis.service: no redis service named 'nope'; redis services: cache, other" in result.err
    project, result = plan_with({"service": "other"})
    assert result.code == 0 and project.plan().service("gateway").depends_on == ["other"]


def test_a_redis_is_added_when_none_is_declared(omnitron_project):
    project = omnitron_project.write(eco(gateway={"redis": True}), {"orders": {}, "inventory": {}})
    plan = project.plan()
    assert [s.name for s in plan.services] == ["redis", "gateway"] and plan.service("redis").auto


def test_the_legacy_key_plans_the_same_service(omnitron_project):
    legacy, _ = write(omnitron_project, legacy=True)
    modern, _ = write(omnitron_project)
    assert legacy.plan().service("gateway").model_dump(exclude={"spec_hash"}) == modern.plan().service("gateway").model_dump(exclude={"spec_hash"})


@pytest.mark.parametrize(("config", "field", "message"), [
    ({"configDir": "~/nginx"}, "configDir", "configDir must be absolute or relative to the project"),
    ({"port": 0}, "port", "port"),
    ({"worker": 2}, "worker", "unknown key"),
    ({"redis": {"name": "x"}}, "redis.name", "unknown key"),
])
def test_a_bad_config_is_one_line_naming_the_field(omnitron_cli, omnitron_project, config, field, message):
    project = omnitron_project.write(eco(gateway=config), {"orders": {}, "inventory": {}})
    result = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert result.code == 2, result.out + result.err
    line = result.err.strip()
    assert line.startswith(f"omnitron: omnitron.config.py: infrastructure.services.gateway.config.{field}: ") and message in line, line
    assert len(line.splitlines()) == 1
