"""The mysql preset against real servers, with both providers: MariaDB natively, the stand-in image in Docker."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import anyio
import pymysql
import pytest

from omnitron.api import ProviderContext, ProvisionError, ServiceHandle
from omnitron_mysql.preset import MysqlPreset
from mysql_testlib import ACCESS_DENIED, by_label, connect_url, omnitron_subprocess, query

APPS = {"web_1": {"database": {"dialect": "mysql"}}, "webx1": {"database": {"dialect": "mysql"}}}
"""Two apps whose database names differ where ``_`` is: an unescaped grant on ``web_1`` would cover ``webx1``."""


def test_each_app_gets_its_own_database_and_user(stack):
    stack.write(APPS)
    result = stack.up()
    assert result["ok"], result
    assert result["services"]["db"]["allocations"] == {
        "web_1": {"database": "web_1", "user": "web_1"},
        "webx1": {"database": "webx1", "user": "webx1"},
    }
    one, two = stack.url("web_1"), stack.url("webx1")
    assert urlsplit(one).username == "web_1" and urlsplit(one).path == "/web_1" and urlsplit(one).port == stack.port
    assert unquote(urlsplit(one).password) != unquote(urlsplit(two).password)
    with connect_url(one) as conn:
        query(conn, "CREATE TABLE only_here (x int)")
        query(conn, "INSERT INTO only_here VALUES (1)")
        assert query(conn, "SELECT DATABASE(), CURRENT_USER()") == [("web_1", "web_1@%")]
        for other in ("webx1", "mysql"):
            with pytest.raises(pymysql.err.OperationalError) as denied:
                query(conn, f"SELECT * FROM {other}.only_here")
            assert denied.value.args[0] in (*ACCESS_DENIED, 1142), denied.value
        with pytest.raises(pymysql.err.OperationalError) as denied:
            query(conn, "CREATE DATABASE web_1_extra")
        assert denied.value.args[0] in ACCESS_DENIED
    with connect_url(two) as conn:
        assert query(conn, "SELECT DATABASE()") == [("webx1",)]
        with pytest.raises(pymysql.err.ProgrammingError):
            query(conn, "SELECT * FROM only_here")
    # an app's user cannot log in to the other's database at all
    parts = urlsplit(one)
    with pytest.raises(pymysql.err.OperationalError) as denied:
        connect_url(f"mysql://{parts.netloc}/webx1")
    assert denied.value.args[0] in ACCESS_DENIED
    # allocations are recorded and idempotent: a second up changes nothing, passwords stay
    again = stack.up()
    assert again["services"]["db"]["allocations"] == result["services"]["db"]["allocations"]
    assert stack.url("web_1") == one


def test_infra_mysql_runs_sql_with_the_local_client_and_where_the_service_runs(stack):
    stack.write({"shop": {"database": {"dialect": "mysql"}}})
    stack.up()
    password = stack.secret(f"{stack.name}/dev/db/password")
    local = omnitron_subprocess("infra", "mysql", "-c", "SELECT 1 AS answer", "--project", str(stack.root))
    assert local.returncode == 0, local.stderr
    assert local.stdout.split() == ["answer", "1"]
    # no client on PATH: it runs in the container, or beside the process, through the provider
    inside = omnitron_subprocess("infra", "mysql", "shop", "-c", "SELECT DATABASE() AS db", "--project", str(stack.root), path="/nonexistent")
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert inside.stdout.split() == ["db", "shop"]
    failed = omnitron_subprocess("infra", "mysql", "-c", "SELECT * FROM no_such_db.t", "--project", str(stack.root), path="/nonexistent")
    assert failed.returncode != 0 and "no_such_db" in failed.stdout
    for res in (local, inside, failed):
        assert password not in res.stdout + res.stderr
    url = omnitron_subprocess("infra", "mysql", "shop", "--print-url", "--project", str(stack.root)).stdout.strip()
    with connect_url(url) as conn:
        assert query(conn, "SELECT DATABASE(), CURRENT_USER()") == [("shop", "root@%")]


def test_data_survives_down_and_up_and_down_volumes_deletes_it(stack):
    stack.write({"keep": {"database": {"dialect": "mysql"}}}, db={"databases": {"reports": {}}})
    stack.up()
    with connect_url(stack.url("keep")) as conn:
        query(conn, "CREATE TABLE items (id int primary key, name varchar(20))")
        query(conn, "INSERT INTO items VALUES (1, 'kept')")
    stack.down()
    if stack.provider == "docker":
        assert by_label("container", stack.name) == [] and by_label("volume", stack.name) != []
    stack.up()
    with connect_url(stack.url("keep")) as conn:
        assert query(conn, "SELECT name FROM items") == [("kept",)]
    with connect_url(stack.root_url()) as conn:
        assert ("reports",) in query(conn, "SHOW DATABASES")
    data_dir = stack.root / ".omnitron" / "stacks" / "dev" / "data" / "db"
    assert stack.provider == "docker" or (data_dir / "mysql").is_dir()
    stack.down(volumes=True)
    assert not data_dir.exists()
    if stack.provider == "docker":
        assert by_label("volume", stack.name) == []
    stack.up()
    with connect_url(stack.url("keep")) as conn:
        with pytest.raises(pymysql.err.ProgrammingError):
            query(conn, "SELECT name FROM items")


SPECIAL = "p@ss:w/rd?#[%]&+ \"'\\é"
"""Every character a URL's userinfo or an SQL string literal treats specially, and one beyond ASCII."""


def test_special_characters_in_passwords_are_url_encoded_and_work(stack):
    stack.write({"odd": {"database": {"dialect": "mysql"}}})
    # set before the first up: omnitron keeps them instead of generating its own
    stack.set_secret(f"{stack.name}/dev/db/apps/odd/password", SPECIAL)
    stack.set_secret(f"{stack.name}/dev/db/password", "root" + SPECIAL)
    assert stack.up()["ok"]
    url = stack.url("odd")
    parts = urlsplit(url)
    assert unquote(parts.password) == SPECIAL
    assert parts.hostname == "127.0.0.1" and parts.port == stack.port and parts.path == "/odd"
    assert "@" not in parts.password and "/" not in parts.password and "#" not in parts.password
    with connect_url(url) as conn:
        assert query(conn, "SELECT DATABASE(), CURRENT_USER()") == [("odd", "odd@%")]
    with connect_url(stack.root_url()) as conn:
        assert query(conn, "SELECT 1") == [(1,)]
    sql = omnitron_subprocess("infra", "mysql", "-c", "SELECT CURRENT_USER()", "--project", str(stack.root))
    assert sql.returncode == 0 and "root@" in sql.stdout, sql.stderr
    inside = omnitron_subprocess("infra", "mysql", "odd", "-c", "SELECT 2", "--project", str(stack.root), path="/nonexistent")
    assert inside.returncode == 0 and inside.stdout.split() == ["2", "2"], inside.stdout + inside.stderr


def test_the_official_first_start_variables_work_with_both_providers(stack):
    env = {"MYSQL_DATABASE": "legacy", "MYSQL_USER": "old_app", "MYSQL_PASSWORD": "old-Secret_1"}
    stack.write({}, entry={"docker": {"env": env}})
    stack.up()
    with connect_url(f"mysql://old_app:old-Secret_1@127.0.0.1:{stack.port}/legacy") as conn:
        query(conn, "CREATE TABLE t (x int)")
        assert query(conn, "SELECT DATABASE(), CURRENT_USER()") == [("legacy", "old_app@%")]


def test_dump_runs_mysqldump_where_the_service_runs(stack, omnitron_plugins):
    stack.write({"keep": {"database": {"dialect": "mysql"}}})
    stack.up()
    with connect_url(stack.url("keep")) as conn:
        query(conn, "CREATE TABLE items (id int primary key, name varchar(20), raw blob)")
        query(conn, "INSERT INTO items VALUES (1, 'kept', x'00ff')")
        query(conn, "CREATE TRIGGER items_guard BEFORE INSERT ON items FOR EACH ROW SET NEW.name = UPPER(NEW.name)")
    password = stack.secret(f"{stack.name}/dev/db/password")
    svc = stack.project.plan(provider=stack.provider).service("db")

    async def dump(database):
        ctx = ProviderContext(project=stack.name, stack="dev", project_dir=stack.root, state_dir=stack.project.stack_dir("dev"), plugins=omnitron_plugins)
        async with omnitron_plugins.providers[stack.provider](ctx) as provider:

            async def exec_(command):
                return await provider.exec("db", command)

            handle = ServiceHandle(service=svc, project=stack.name, stack="dev", host=svc.host, ports=dict(svc.ports), secret=lambda name: password, exec=exec_)
            return await MysqlPreset().dump(handle, database)

    text = anyio.run(dump, "keep")
    assert "dump" in text.split("\n", 2)[1].lower() and text.rstrip().splitlines()[-1].startswith("-- Dump completed")
    assert "Warning" not in text and "mysqldump:" not in text and "mariadb-dump:" not in text
    assert "CREATE DATABASE" in text and "`keep`" in text
    assert "CREATE TABLE `items`" in text and "(1,'kept',0x00FF)" in text
    assert "items_guard" in text
    assert password not in text
    with pytest.raises(ProvisionError, match="dumping database no_such_db failed") as failed:
        anyio.run(dump, "no_such_db")
    assert "no_such_db" in str(failed.value).split("failed", 1)[1]
