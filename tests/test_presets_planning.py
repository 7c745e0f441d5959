"""The planner with the real postgres and redis presets (their declarations)."""

from urllib.parse import unquote, urlsplit

import pytest

from omnitron.env import render_app_env
from omnitron.errors import PlanError
from omnitron.templating import Renderer


def plan(factory, eco, apps=None, **opts):
    return factory.write(eco, apps).plan(**opts)


def env_of(project_plan, plugins, app, secret=None, alloc=None):
    return render_app_env(project_plan, app, Renderer(plugins.template_functions), secret=secret, allocations=alloc)


def test_spec_ecosystem_example(omnitron_project):
    eco = {"infrastructure": {"services": {"db": {"preset": "postgres", "config": {"databases": {"main": {}, "ledger": {}}}}, "cache": {"preset": "redis"}}}}
    p = plan(omnitron_project, eco, available={"docker": True})
    db = p.service("db")
    assert db.docker.image == "postgres:16"
    assert db.ports == {"main": 5432}
    assert db.config["databases"] == {"main": {"extensions": []}, "ledger": {"extensions": []}}
    assert db.docker.env["POSTGRES_PASSWORD"] == "${secret:password}"
    assert p.service("cache").docker.command == ["redis-server", "-"]
    assert p.service("cache").docker.stdin.startswith("requirepass ${redis_quoted_secret:password}\n")


def test_database_true_asks_for_a_database_named_after_the_app(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"db": {"preset": "postgres"}}}}, {"billing-api": {"database": True}})
    alloc = p.apps["billing-api"].allocations[0]
    assert (alloc.kind, alloc.name, alloc.service) == ("database", "billing_api", "db")
    env = env_of(p, omnitron_project.plugins, "billing-api", secret=lambda k: "pw")
    assert env["DATABASE_URL"] == "postgresql://postgres:pw@127.0.0.1:5432/billing_api"


def test_database_dedicated_plans_a_postgres_for_the_app(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"db": {"preset": "postgres"}}}}, {"web": {"database": {"dedicated": True}}, "api": {"database": True}})
    assert {s.name for s in p.services} == {"db", "web/postgres"}
    dedicated = p.service("web/postgres")
    assert dedicated.app == "web" and dedicated.ports["main"] != 5432
    assert dedicated.secrets["password"].endswith("/dev/web/postgres/password")
    assert p.apps["web"].env["DATABASE_URL"].service == "web/postgres"


def test_database_mysql_without_preset_says_which_package(omnitron_project, monkeypatch):
    monkeypatch.setenv("OMNITRON_DISABLE_PLUGINS", "mysql")
    with pytest.raises(PlanError, match=r"apps/web/config/default.json: omnitron.database.dialect: no installed preset serves dialect 'mysql' \(install omnitron-mysql\); installed dialects: postgres, postgresql$"):
        plan(omnitron_project, {}, {"web": {"database": {"dialect": "mysql"}}})


def test_unknown_dialect_names_the_installed_ones(omnitron_project):
    with pytest.raises(PlanError, match=r"omnitron.database.dialect: no installed preset serves dialect 'oracle'; installed dialects: mariadb, mysql, postgres, postgresql$"):
        plan(omnitron_project, {}, {"web": {"database": {"dialect": "oracle"}}})


def test_redis_true_asks_for_a_db_index(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"cache": {"preset": "redis"}}}, "stacks": {"dev": {"redisDbOffset": 4}}}, {"web": {"redis": True}})
    alloc = p.apps["web"].allocations[0]
    assert (alloc.kind, alloc.service) == ("redis_db", "cache")
    assert p.redis_db_offset == 4
    env = env_of(p, omnitron_project.plugins, "web", secret=lambda k: "pw", alloc={"cache": {"db": "4"}})
    assert env["REDIS_URL"] == "redis://default:pw@127.0.0.1:6379/4"


def test_redis_dedicated(omnitron_project):
    p = plan(omnitron_project, {}, {"web": {"redis": {"dedicated": True}}})
    assert [s.name for s in p.services] == ["web/redis"]


def test_s3_true_needs_the_minio_preset(omnitron_project):
    with pytest.raises(PlanError, match="install omnitron-minio"):
        plan(omnitron_project, {}, {"web": {"s3": {"bucket": "uploads", "quota": "10gb"}}})


def test_shared_postgres_is_added_when_an_app_needs_one(omnitron_project):
    p = plan(omnitron_project, {}, {"a": {"database": True}, "b": {"database": True}})
    assert [s.name for s in p.services] == ["postgres"]
    assert p.service("postgres").auto


def test_legacy_shape_with_real_presets(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"postgres": {"databases": {"main": {}}}, "redis": {"maxmemory": "64mb", "maxmemoryPolicy": "allkeys-lru"}}}, {"web": {"database": True, "redis": True}})
    assert {s.name for s in p.services} == {"postgres", "redis"}
    assert 'maxmemory-policy "allkeys-lru"' in p.service("redis").docker.stdin  # the config redis-server reads on stdin


def test_two_postgres_services_need_a_choice(omnitron_project):
    eco = {"infrastructure": {"services": {"a": {"preset": "postgres"}, "b": {"preset": "postgres", "config": {"port": 5433}}}}}
    with pytest.raises(PlanError, match='several postgres services \\(a, b\\): say which with "service"'):
        plan(omnitron_project, eco, {"web": {"database": True}})
    p = plan(omnitron_project, eco, {"web": {"database": {"service": "b"}}})
    assert p.apps["web"].env["DATABASE_URL"].service == "b"


def test_password_with_url_characters_round_trips(omnitron_project):
    password = "p@ss:w/rd%#?"
    p = plan(omnitron_project, {}, {"web": {"database": True}})
    url = env_of(p, omnitron_project.plugins, "web", secret=lambda k: password)["DATABASE_URL"]
    assert unquote(urlsplit(url).password) == password


def test_postgres_version_selects_the_image_tag(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"db": {"preset": "postgres", "config": {"version": "15"}}}}})
    assert p.service("db").docker.image == "postgres:15"


def test_preset_entry_overrides(omnitron_project):
    eco = {"infrastructure": {"services": {"db": {"preset": "postgres", "critical": False, "startupTimeout": "30s", "ports": {"main": 6543}}}}}
    svc = plan(omnitron_project, eco).service("db")
    assert (svc.critical, svc.startup_timeout_ms, svc.ports["main"]) == (False, 30_000, 6543)
    assert svc.docker.ports == {"main": 5432}


def test_plan_json_masks_secrets(omnitron_project, omnitron_cli):
    project = omnitron_project.write({}, {"web": {"database": True, "redis": True}})
    result = omnitron_cli("infra", "plan", "--project", str(project.root), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["apps"]["web"]["renderedEnv"]["DATABASE_URL"].startswith("postgresql://postgres:****@")
    table = omnitron_cli("infra", "plan", "--project", str(project.root))
    assert "DATABASE_URL=postgresql://postgres:****@127.0.0.1:5432/web" in table.out
