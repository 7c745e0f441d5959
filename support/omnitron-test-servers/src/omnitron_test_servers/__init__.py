"""Real PostgreSQL and Redis servers for tests, started from the machine's binaries.

Used by the engine's and the presets' tests to have something real to point
``external`` services at. PostgreSQL refuses to run as root, so when the tests
run as root it runs as ``nobody`` (``setpriv``). Passwords never go on a
command line: Redis reads its config from stdin, ``initdb`` reads the password
from a file that is deleted right after.

Debian packages: ``postgresql`` (``/usr/lib/postgresql/*/bin``) and
``redis-server``. A tests-only package of this repository (``support/``),
installed by the test sessions that need it, never shipped with omnitron.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from omnitron.api import free_port, poll_attempts_sync

READY_TIMEOUT = 30.0


class ServerUnavailable(RuntimeError):
    """The binaries are not installed here (tests skip on this)."""


@dataclass
class NativeServer:
    """A server process the tests started; :meth:`stop` ends it and deletes its data."""

    kind: str
    host: str
    port: int
    password: str
    user: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)




def _wait_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in poll_attempts_sync(READY_TIMEOUT, first=0.02, cap=0.02):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            pass
    raise RuntimeError(f"server did not listen on {host}:{port} within {READY_TIMEOUT}s: {log.read_text(errors='replace')[-2000:]}")


def _as_unprivileged() -> tuple[list[str], int | None, int | None]:
    """Command prefix dropping root (``setpriv``) and the uid/gid to own files, or nothing when not root."""
    if os.geteuid() != 0:
        return [], None, None
    import pwd

    nobody = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"], nobody.pw_uid, nobody.pw_gid


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerUnavailable("PostgreSQL binaries not found (apt-get install postgresql)")


def start_postgres(*, user: str = "postgres", password: str | None = None) -> NativeServer:
    """initdb + postgres on a free port, password (SCRAM) auth over TCP on 127.0.0.1."""
    bindir = postgres_bindir()
    password = password or secrets.token_urlsafe(24)
    prefix, uid, gid = _as_unprivileged()
    root = Path(tempfile.mkdtemp(prefix="omnitron-test-pg-"))
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if uid is not None:
        os.chown(root, uid, gid)
        os.chown(pwfile, uid, gid)
    os.chmod(pwfile, 0o600)
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", user, f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True, capture_output=True, cwd=root,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace')[-2000:]}") from None
    finally:
        pwfile.unlink(missing_ok=True)
    port = free_port()
    log = root / "postgres.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*prefix, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=out, stderr=subprocess.STDOUT, cwd=root,
        )
    server = NativeServer("postgres", "127.0.0.1", port, password, user, process, root, log)
    try:
        _wait_port("127.0.0.1", port, process, log)
        _wait_postgres(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_postgres(server: NativeServer) -> None:
    """The port opens before the server accepts connections: wait for ``SELECT 1``."""
    import psycopg

    last: Exception | None = None
    for _ in poll_attempts_sync(READY_TIMEOUT, first=0.05, cap=0.05):
        try:
            with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres", connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError as exc:
            last = exc
    raise last or RuntimeError("postgres did not answer")


def start_redis(*, password: str | None = None, databases: int = 16) -> NativeServer:
    """redis-server on a free port with ``requirepass``, no persistence; config fed on stdin."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server not found (apt-get install redis-server)")
    password = password or secrets.token_urlsafe(24)
    root = Path(tempfile.mkdtemp(prefix="omnitron-test-redis-"))
    port = free_port()
    config = "\n".join([
        f"port {port}", "bind 127.0.0.1", f"requirepass {password}", 'save ""', "appendonly no",
        f"databases {databases}", f"dir {root}", "daemonize no",
    ]) + "\n"
    log = root / "redis.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, "-"], stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    assert process.stdin is not None
    process.stdin.write(config.encode())
    process.stdin.close()
    server = NativeServer("redis", "127.0.0.1", port, password, "default", process, root, log)
    try:
        _wait_port("127.0.0.1", port, process, log)
    except BaseException:
        server.stop()
        raise
    return server
