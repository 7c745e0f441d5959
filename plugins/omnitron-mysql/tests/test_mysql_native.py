"""MariaDB as a native process: where its secrets are not, where it listens, who it runs as; dedicated servers, migrate, reset."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pymysql
import pytest

from mysql_testlib import connect_url, files_containing, query

MIGRATE = """
import os, pymysql
from urllib.parse import unquote, urlsplit
u = urlsplit(os.environ["DATABASE_URL"])
conn = pymysql.connect(host=u.hostname, port=u.port, user=unquote(u.username), password=unquote(u.password).encode(), database=u.path[1:], autocommit=True)
conn.cursor().execute("CREATE TABLE IF NOT EXISTS migrated (version int)")
conn.cursor().execute("INSERT INTO migrated VALUES (1)")
"""


def server_pid(stack, service: str = "db") -> int:
    return int(stack.run("infra", "status", "--json").json()["services"][service]["containerId"])


def listening(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (``/proc/net/tcp{,6}``)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_passwords_are_on_no_command_line_and_in_no_file(native):
    native.write({"web": {"database": {"dialect": "mysql"}}})
    native.up()
    root = native.secret(f"{native.name}/dev/db/password").encode()
    app = native.secret(f"{native.name}/dev/db/apps/web/password").encode()
    with connect_url(native.url("web")) as conn:
        query(conn, "CREATE TABLE t (x int)")
    pid = server_pid(native)
    for secret in (root, app):
        assert secret not in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert files_containing(native.root, secret) == []
    # the state store, logs and data directory are all under the project
    assert (native.root / ".omnitron" / "stacks" / "dev" / "logs" / "db.log").is_file()


def test_listens_on_localhost_only_and_runs_unprivileged(native):
    native.write({"web": {"database": {"dialect": "mysql"}}})
    native.up()
    assert listening(native.port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or IPv6
    pid = server_pid(native)
    data_dir = native.root / ".omnitron" / "stacks" / "dev" / "data" / "db"
    if os.geteuid() == 0:
        owner = os.stat(f"/proc/{pid}").st_uid
        assert owner != 0 and data_dir.stat().st_uid == owner
    assert data_dir.stat().st_mode & 0o777 == 0o700
    with connect_url(native.root_url()) as conn:
        assert query(conn, "SELECT @@bind_address, @@skip_name_resolve") == [("127.0.0.1", 1)]
        assert query(conn, "SELECT COUNT(*) FROM mysql.user WHERE User = ''") == [(0,)]
    with pytest.raises(pymysql.err.OperationalError) as denied:
        connect_url(f"mysql://root:wrong@127.0.0.1:{native.port}/")
    assert denied.value.args[0] == 1045


def test_a_changed_root_password_is_applied_at_the_next_start(native):
    native.write({})
    native.up()
    native.down()
    native.set_secret(f"{native.name}/dev/db/password", "rotated-Pass_1")
    native.up()
    with connect_url(f"mysql://root:rotated-Pass_1@127.0.0.1:{native.port}/") as conn:
        assert query(conn, "SELECT 1") == [(1,)]


def test_dedicated_server_for_one_app(native):
    native.write({"solo": {"database": {"dialect": "mysql", "dedicated": True}}, "shared": {"database": {"dialect": "mysql"}}})
    result = native.up()
    assert set(result["services"]) == {"db", "solo/mysql"}
    solo, shared = native.url("solo"), native.url("shared")
    assert solo.split("@")[1] != shared.split("@")[1]
    with connect_url(solo) as conn:
        assert query(conn, "SELECT DATABASE()") == [("solo",)]
        assert ("shared",) not in query(conn, "SHOW DATABASES")
    with connect_url(shared) as conn:
        assert query(conn, "SELECT DATABASE()") == [("shared",)]


def test_migrate_and_reset(native):
    native.write({"web": {"database": {"dialect": "mysql"}, "migrate": [sys.executable, "-c", MIGRATE]}})
    native.up()
    native.run("infra", "migrate", "web")
    with connect_url(native.url("web")) as conn:
        assert query(conn, "SELECT version FROM migrated") == [(1,)]
    assert native.run("infra", "reset", expect=1).code == 1  # without --yes nothing happens
    with connect_url(native.url("web")) as conn:
        assert query(conn, "SELECT version FROM migrated") == [(1,)]
    native.run("infra", "reset", "--yes", "--provider", "process")
    with connect_url(native.url("web")) as conn:
        with pytest.raises(pymysql.err.ProgrammingError):
            query(conn, "SELECT version FROM migrated")
    native.run("infra", "migrate")
    with connect_url(native.url("web")) as conn:
        assert query(conn, "SELECT version FROM migrated") == [(1,)]


def test_mariadb_dialect_runs_the_mariadb_preset(native):
    native.write({"web": {"database": {"dialect": "mariadb"}}}, declare=False)
    result = native.up()
    assert set(result["services"]) == {"mariadb"}
    with connect_url(native.url("web")) as conn:
        assert query(conn, "SELECT DATABASE(), CURRENT_USER()") == [("web", "web@%")]
        assert "MariaDB" in query(conn, "SELECT VERSION()")[0][0]


def test_a_second_server_starting_keeps_the_first_ones_temporary_tables(native):
    """Each native server has its own ``tmpdir``: a server starting removes the temporary-table files it finds in its
    tmpdir, so with a shared ``/tmp`` a second one (its ``mariadb-install-db`` included) destroys the first one's."""
    native.write({"shared": {"database": {"dialect": "mysql"}}})
    native.up()
    with connect_url(native.url("shared")) as conn:
        (tmpdir,) = query(conn, "SELECT @@tmpdir")[0]
        assert Path(tmpdir).parent == native.root / ".omnitron" / "stacks" / "dev" / "run" / "db", tmpdir
        query(conn, "CREATE TEMPORARY TABLE scratch (x int) ENGINE=MyISAM")  # its files are in the tmpdir
        query(conn, "INSERT INTO scratch VALUES (1)")
        native.write({"shared": {"database": {"dialect": "mysql"}}, "solo": {"database": {"dialect": "mysql", "dedicated": True}}})
        assert set(native.up()["services"]) == {"db", "solo/mysql"}  # a second server initialised and started
        query(conn, "INSERT INTO scratch VALUES (2)")
        assert query(conn, "SELECT x FROM scratch ORDER BY x") == [(1,), (2,)]
        query(conn, "DROP TEMPORARY TABLE scratch")  # its files must still be there to be removed
        assert query(conn, "SHOW WARNINGS") == []
