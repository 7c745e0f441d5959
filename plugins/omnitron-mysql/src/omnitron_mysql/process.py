"""Running MariaDB as a native process (the process provider's recipe).

What it needs from the runtime spec (the engine renders these like the
container's env and command):

- ``env["MYSQL_ROOT_PASSWORD"]`` (required), as for the official image; on
  first start ``MYSQL_DATABASE``, and ``MYSQL_USER`` with ``MYSQL_PASSWORD``,
  are created as the image does;
- ``command``: the container's arguments (``["--character-set-server=utf8mb4",
  ...]``, optionally after a server name): passed on to the server; without
  it, the options from the preset's config are.

The server is ``mariadbd`` (or a ``mysqld`` that is MariaDB) with
``--no-defaults``: no system option file is read. It listens on the stack's
bind address only (``--skip-name-resolve``) and on a Unix socket in the
service's private runtime directory, which holds its own temporary directory
(``--tmpdir``: never a ``/tmp`` shared with another server). The data directory is made once by
``mariadb-install-db`` with no password at all: root and the account the
server runs as may log in over that socket only, as the same system user
(``unix_socket``). After every start, root's password for TCP is set over the
socket as a ``mysql_native_password`` verifier computed here, so the
password is never on a command line, in a file or in the server's log.
Oracle's MySQL server is not run natively (use the docker provider).

A fresh data directory takes about 0.7 s (``mariadb-install-db``), and a
copy of an initialised one about 0.4 s of it (it holds a 100 MB redo log),
so no template is kept.
"""

from __future__ import annotations

import os
import pwd
import shutil
import time
from pathlib import Path
from typing import Any, ClassVar

import anyio

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError, StartupTimeout

from .config import server_args as config_server_args
from .sql import Statement, Target, driver_errors, error_code, first_line, native_password_hash, quote_identifier
from .sql import run as run_sql

SOCKET = "mysqld.sock"
SERVERS = ("mariadbd", "mysqld")
INSTALLERS = ("mariadb-install-db", "mysql_install_db")
SEARCH_PATHS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin", "/usr/local/mariadb/bin", "/opt/mariadb/bin", "/usr/libexec")
SYSTEM_BIN = "/usr/local/bin:/usr/bin:/bin"
RETRY_CODES = (2002, 2003, 2006, 2013)
"""Client errors of a server still starting (cannot connect, gone away, lost connection)."""


def server_name() -> str:
    """``mariadbd`` where it is installed (on PATH or in the usual places), else ``mysqld``."""
    if shutil.which(SERVERS[0]) or any(Path(d, SERVERS[0]).is_file() for d in SEARCH_PATHS):
        return SERVERS[0]
    return SERVERS[1]


def login_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


class MariadbRecipe(ProcessRecipe):
    search_paths = SEARCH_PATHS
    refuses_root = True
    stop_timeout: ClassVar[float] = 30.0
    install_hint = "install MariaDB (`apt-get install mariadb-server`), or run the service with the docker provider"

    @property
    def binaries(self) -> tuple[str, ...]:  # type: ignore[override]
        return (server_name(),)

    # -- the runtime spec ---------------------------------------------------

    @staticmethod
    def server(run: ProcessRun) -> Path:
        return next(iter(run.binaries.values()))

    @staticmethod
    def socket(run: ProcessRun) -> Path:
        return run.run_dir / SOCKET

    @staticmethod
    def tmp_dir(run: ProcessRun) -> Path:
        """The server's own temporary directory (``--tmpdir``), made if missing and owned by the server's account.

        Never a shared ``/tmp``: there, two servers starting at the same time
        removed each other's temporary tables (``mariadb-install-db`` then
        fails with ``ERROR: 1051 Unknown table 'mysql.tmp_user_sys'``).
        """
        tmp = run.run_dir / "tmp"
        tmp.mkdir(mode=0o700, exist_ok=True)
        if run.user is not None and os.geteuid() == 0:
            entry = pwd.getpwnam(run.user)
            os.chown(tmp, entry.pw_uid, entry.pw_gid)
        return tmp

    @staticmethod
    def socket_user(run: ProcessRun) -> str:
        """The system account the server runs as; its MariaDB account of the same name logs in over the socket."""
        return run.user or login_name()

    @staticmethod
    def root_password(run: ProcessRun) -> str:
        password = run.spec.env.get("MYSQL_ROOT_PASSWORD")
        if not password:
            raise ProvisionError(f"service {run.name}: no MYSQL_ROOT_PASSWORD in its runtime env (the engine renders it from the preset's env)")
        return password

    @staticmethod
    def server_args(run: ProcessRun) -> list[str]:
        command = list(run.spec.command or [])
        if command and not command[0].startswith("-"):
            command = command[1:]  # the server's name, as a container command may give it
        if command or run.spec.command:
            return command
        return config_server_args(run.spec.service.config)

    # -- data directory -----------------------------------------------------

    def is_initialised(self, run: ProcessRun) -> bool:
        return (run.data_dir / "mysql").is_dir()

    async def initialise(self, run: ProcessRun) -> None:
        """``mariadb-install-db``: system tables, root and the server's account on the socket only, no test database."""
        if any(run.data_dir.iterdir()):
            raise ProvisionError(
                f"service {run.name}: {run.data_dir} is not empty but holds no MySQL data: move it away or delete it (`omnitron infra down --volumes`)"
            )
        server = self.server(run)
        await self._require_mariadb(run, server)
        installer = find_installer(server)
        if installer is None:
            raise ProvisionError(f"service {run.name}: no {' or '.join(INSTALLERS)} found beside {server} or on PATH; {self.install_hint}")
        run.log(f"{installer.name} (about a second)")
        await run.call(
            [str(installer), "--no-defaults", f"--datadir={run.data_dir}", f"--basedir={server.parent.parent}",
             "--auth-root-authentication-method=socket", f"--auth-root-socket-user={self.socket_user(run)}",
             "--skip-test-db", "--skip-name-resolve", *self.server_args(run), f"--tmpdir={self.tmp_dir(run)}"],
            env={"PATH": f"{server.parent}:{installer.parent}:{SYSTEM_BIN}", "LANG": "C.UTF-8"},
            cwd=run.data_dir,
        )

    async def _require_mariadb(self, run: ProcessRun, server: Path) -> None:
        banner = await run.call([str(server), "--no-defaults", "--version"])
        if "mariadb" not in banner.lower():
            raise ProvisionError(
                f"service {run.name}: {server} is not MariaDB ({banner.strip()}): native MySQL servers run from MariaDB's binaries; "
                "install mariadb-server, or use the docker provider"
            )

    # -- running ------------------------------------------------------------

    def command(self, run: ProcessRun) -> list[str]:
        # the passed-on options come first: the ones after them (where and how to listen) win
        return [
            str(self.server(run)), "--no-defaults", *self.server_args(run),
            f"--datadir={run.data_dir}", f"--socket={self.socket(run)}", f"--pid-file={run.run_dir / 'mysqld.pid'}",
            f"--port={run.port['main']}", f"--bind-address={run.bind_address}", "--skip-name-resolve", f"--tmpdir={run.run_dir / 'tmp'}",
        ]

    async def before_start(self, run: ProcessRun) -> None:
        self.tmp_dir(run)

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        user = self.socket_user(run)
        return {"MYSQL_UNIX_PORT": str(self.socket(run)), "MYSQL_TCP_PORT": str(run.port["main"]), "USER": user, "LOGNAME": user}

    async def after_start(self, run: ProcessRun) -> None:
        """Wait for the socket, then set root's TCP password (and on first start create ``MYSQL_DATABASE``/``MYSQL_USER``)."""
        admin = Target(user="root" if os.geteuid() == 0 else self.socket_user(run), unix_socket=str(self.socket(run)))
        statements = root_statements(self.root_password(run))
        if run.initialised:
            statements += first_start_statements(run.spec.env)
        await self._wait_and_run(run, admin, statements)

    async def _wait_and_run(self, run: ProcessRun, admin: Target, statements: list[Statement]) -> None:
        started = time.monotonic()
        socket = self.socket(run)
        while True:
            message = "its socket is not there yet"
            if socket.exists():
                try:
                    await anyio.to_thread.run_sync(lambda: run_sql(admin, statements))
                    return
                except driver_errors() as exc:
                    if not isinstance(exc, OSError) and error_code(exc) not in RETRY_CODES:
                        raise ProvisionError(f"service {run.name}: setting up the server over its socket failed: {first_line(exc)}") from None
                    message = first_line(exc)
            if not run.is_running():
                raise ProvisionError(f"service {run.name}: the server exited while starting: {run.log_tail() or 'no output'} (log: {run.log_path})")
            if time.monotonic() - started > run.startup_timeout:
                raise StartupTimeout(f"service {run.name}: the server did not accept connections on {socket} within {run.startup_timeout:g}s: {message} (log: {run.log_path})")
            await anyio.sleep(0.005 if time.monotonic() - started < 2 else 0.05)


def find_installer(server: Path) -> Path | None:
    """``mariadb-install-db`` of the same installation: beside the server, in its ``../bin``, else on PATH."""
    for directory in (server.parent, server.parent.parent / "bin"):
        for name in INSTALLERS:
            if (directory / name).is_file() and os.access(directory / name, os.X_OK):
                return directory / name
    for name in INSTALLERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def root_statements(password: str) -> list[Statement]:
    """root over TCP with ``password`` (sent as its verifier), every privilege, from any host."""
    verifier = native_password_hash(password)
    return [
        ("CREATE USER IF NOT EXISTS 'root'@'%%' IDENTIFIED BY PASSWORD %s", (verifier,)),
        ("ALTER USER 'root'@'%%' IDENTIFIED BY PASSWORD %s", (verifier,)),
        ("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION", None),
    ]


def first_start_statements(env: dict[str, Any]) -> list[Statement]:
    """The official image's first-start steps that the env asks for: ``MYSQL_DATABASE``, ``MYSQL_USER`` + ``MYSQL_PASSWORD``.

    Also drops the grant ``mariadb-install-db`` made for this machine's host name (ignored with ``--skip-name-resolve``).
    """
    out: list[Statement] = [("DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost'", None), ("FLUSH PRIVILEGES", None)]
    database, user, password = env.get("MYSQL_DATABASE"), env.get("MYSQL_USER"), env.get("MYSQL_PASSWORD")
    if database:
        out.append((f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}", None))
    if user and password:
        from .runtime import user_statements

        if database:
            out += user_statements(user, password, database)
        else:
            out.append(("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password)))
    return out
