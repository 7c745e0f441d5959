"""The presets' declarations, app bindings and config errors, through the CLI as a user sees them (no server)."""

from __future__ import annotations

import pytest

from omnitron.api import AllocationRequest
from omnitron_mysql.client import in_service
from omnitron_mysql.preset import database_name, user_name
from omnitron_mysql.sql import grant_pattern, native_password_hash, quote_identifier


@pytest.fixture
def project(omnitron_project, omnitron_cli, monkeypatch):
    """``project(services, apps)`` writes the project and returns the CLI, run in the project's directory."""
    monkeypatch.chdir(omnitron_project.root)

    def write(services=None, apps=None, **extra):
        eco = {"project": "shop", "infrastructure": {"services": services or {}}, **extra}
        omnitron_project.write(eco, apps)
        return omnitron_cli

    return write


def plan_of(cli, *args):
    result = cli("infra", "plan", "--json", *args)
    assert result.code == 0, result.err
    return result.json()


def service(plan, name):
    return next(s for s in plan["services"] if s["name"] == name)


def test_dialect_mysql_plans_a_shared_server_with_a_database_and_user_per_app(project):
    cli = project(apps={"orders-api": {"database": {"dialect": "mysql"}}, "billing": {"database": {"dialect": "mysql", "name": "ledger"}}})
    plan = plan_of(cli, "--provider", "docker")
    db = service(plan, "mysql")
    assert (db["preset"], db["type"], db["auto"]) == ("mysql", "database", True)
    assert db["docker"]["image"] == "mysql:8.4"
    assert db["docker"]["env"] == {"MYSQL_ROOT_PASSWORD": "${secret:password}"}
    assert db["docker"]["volumes"][0]["target"] == "/var/lib/mysql"
    assert db["docker"]["ports"] == {"main": 3306} and db["ports"] == {"main": 3306} and db["bindAddress"] == "127.0.0.1"
    assert db["docker"]["command"] == ["--character-set-server=utf8mb4"]
    assert db["secrets"] == {"password": "shop/dev/mysql/password"}
    apps = plan["apps"]
    orders = apps["orders-api"]
    assert orders["allocations"][0]["values"] == {"database": "orders_api", "user": "orders_api"}
    assert orders["allocations"][0]["secrets"] == {"password": "shop/dev/mysql/apps/orders-api/password"}
    assert apps["billing"]["allocations"][0]["values"] == {"database": "ledger", "user": "billing"}
    env = cli("infra", "env", "orders-api", "--format", "json").json()
    assert env == {"DATABASE_URL": "mysql://orders_api:****@127.0.0.1:3306/orders_api", "PORT": "<pending>"}


def test_mariadb_dialect_and_preset(project):
    cli = project(apps={"web": {"database": {"dialect": "mariadb"}}})
    db = service(plan_of(cli, "--provider", "docker"), "mariadb")
    assert db["preset"] == "mariadb" and db["docker"]["image"] == "mariadb:11.4"
    cli = project({"db": {"preset": "mariadb", "config": {"version": "10.11"}}}, {"web": {"database": {"dialect": "mariadb"}}})
    assert service(plan_of(cli, "--provider", "docker"), "db")["docker"]["image"] == "mariadb:10.11"


def test_dedicated_gives_the_app_a_server_of_its_own(project):
    cli = project({"db": {"preset": "mysql"}}, {"web": {"database": {"dialect": "mysql", "dedicated": True}}, "api": {"database": {"dialect": "mysql"}}})
    plan = plan_of(cli, "--provider", "process")
    assert {s["name"] for s in plan["services"]} == {"db", "web/mysql"}
    own = service(plan, "web/mysql")
    assert own["app"] == "web" and own["provider"] == "process" and own["ports"]["main"] != 3306
    assert own["secrets"]["password"] == "shop/dev/web/mysql/password"
    assert plan["apps"]["web"]["env"]["DATABASE_URL"]["service"] == "web/mysql"
    assert plan["apps"]["api"]["env"]["DATABASE_URL"]["service"] == "db"


def test_config_reaches_the_server_arguments(project):
    config = {"charset": "latin1", "collation": "latin1_swedish_ci", "sqlMode": "ansi, no_zero_date", "settings": {"max_connections": 50, "local_infile": False}}
    cli = project({"db": {"preset": "mysql", "config": config}})
    db = service(plan_of(cli, "--provider", "docker"), "db")
    assert db["docker"]["command"] == [
        "--character-set-server=latin1", "--collation-server=latin1_swedish_ci", "--sql-mode=ANSI,NO_ZERO_DATE",
        "--local-infile=OFF", "--max-connections=50",
    ]
    assert db["config"]["sqlMode"] == ["ANSI", "NO_ZERO_DATE"]
    cli = project({"db": {"preset": "mysql", "config": {"sqlMode": ""}}})
    assert "--sql-mode=" in service(plan_of(cli, "--provider", "docker"), "db")["docker"]["command"]


BAD_CONFIGS = [
    ({"charst": "utf8mb4"}, "config.charst: unknown key"),
    ({"charset": "utf9"}, "config.charset: unknown character set 'utf9'; known: armscii8,"),
    ({"collation": "latin1_swedish_ci"}, "config.collation: collation 'latin1_swedish_ci' does not belong to character set 'utf8mb4'"),
    ({"sqlMode": ["STRICT_TRANS_TABLES", "NO_SUCH_MODE"]}, "config.sqlMode: unknown SQL mode 'NO_SUCH_MODE'"),
    ({"settings": {"bind_address": "0.0.0.0"}}, "config.settings.bind_address: server option 'bind_address' is set by omnitron"),
    ({"databases": {"bad-name": {}}}, "config.databases.bad-name"),
    ({"databases": {"main": {"charset": "nope"}}}, "config.databases.main.charset: unknown character set 'nope'"),
    ({"databases": {"main": {"collation": "latin1_bin"}}}, "config.databases: database main: collation 'latin1_bin' does not belong to character set 'utf8mb4'"),
    ({"port": 70000}, "config.port:"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_CONFIGS)])
def test_bad_config_is_one_line_naming_the_file_and_field(project, config, message):
    cli = project({"db": {"preset": "mysql", "config": config}})
    result = cli("infra", "plan")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"omnitron: omnitron.config.py: infrastructure.services.db.{message}"), lines[0]
    assert "Traceback" not in result.err + result.out


def test_unknown_dialect_names_the_field_and_the_installed_dialects(project):
    cli = project(apps={"web": {"database": {"dialect": "oracle"}}})
    result = cli("infra", "up")
    assert result.code == 2
    assert result.err.strip() == (
        "omnitron: apps/web/config/default.json: omnitron.database.dialect: no installed preset serves dialect 'oracle'; installed dialects: mariadb, mysql"
    )


def test_names_fit_mysql_limits_and_never_hit_system_accounts():
    long = "a-very-long-application-name-that-goes-on-and-on"
    assert len(user_name(long)) == 32 and user_name(long) != user_name(long + "2")
    assert user_name(long).startswith("a_very_long_application_")
    assert user_name("root") == "app_root" and user_name("Public") == "app_Public"
    assert database_name("9lives") == "_9lives" and database_name("shop.api-v2") == "shop_api_v2"


def test_sql_helpers():
    # MySQL's PASSWORD('password') is this well-known value
    assert native_password_hash("password") == "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
    assert quote_identifier("we`ird") == "`we``ird`"
    assert grant_pattern("web_1%") == r"`web\_1\%`"


def test_client_commands_take_no_password_argument():
    argv = in_service("docker", "mysqldump", ["--databases", "shop"])
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["mysqldump", "mariadb-dump", "mysqldump", "--user=root", "--databases", "shop"]
    assert "--user=root" not in in_service("process", "mysql", ["-e", "SELECT 1"])
    assert not any("password" in arg.lower() and "MYSQL_ROOT_PASSWORD" not in arg for arg in argv)


def test_allocation_request_carries_the_app_credential(project):
    cli = project({"db": {"preset": "mysql"}}, {"web": {"database": {"dialect": "mysql"}}})
    request = AllocationRequest.model_validate(plan_of(cli)["apps"]["web"]["allocations"][0])
    assert request.secrets == {"password": "shop/dev/db/apps/web/password"}
    assert (request.kind, request.service) == ("database", "db")


def test_infra_mysql_says_which_service_when_it_cannot_choose(project):
    cli = project({"cache": {"ports": {"main": 1}, "docker": {"image": "x"}}})
    none = cli("infra", "mysql", "-c", "SELECT 1")
    assert (none.code, none.err.strip()) == (2, "omnitron: stack dev has no mysql/mariadb service")
    cli = project({"one": {"preset": "mysql"}, "two": {"preset": "mariadb", "config": {"port": 3307}}})
    several = cli("infra", "mysql", "-c", "SELECT 1")
    assert several.code == 2 and "several mysql/mariadb services (one, two): choose one with --service" in several.err
    wrong = cli("infra", "mysql", "--service", "three", "-c", "SELECT 1")
    assert wrong.code == 2 and "no mysql/mariadb service named 'three' in stack dev; mysql/mariadb services: one, two" in wrong.err
