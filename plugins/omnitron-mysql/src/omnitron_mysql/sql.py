"""Talking SQL to a MySQL or MariaDB server through PyMySQL.

PyMySQL is blocking: every call here runs in a worker thread (anyio), so the
event loop (other services' health checks, progress) keeps going. Values go
as query parameters; the only names spliced into SQL are identifiers quoted
by :func:`quote_identifier`. Passwords are passed as UTF-8 bytes (PyMySQL
would encode a ``str`` as latin-1), which is how the server hashes them in
``IDENTIFIED BY``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class Target:
    """Where and as whom to connect: TCP (``host``/``port``) or a Unix socket."""

    user: str
    password: str | None = None
    host: str = "127.0.0.1"
    port: int = 3306
    unix_socket: str | None = None
    database: str | None = None

    def where(self) -> str:
        return self.unix_socket or f"{self.host}:{self.port}"


def quote_identifier(name: str) -> str:
    """```name``` with backticks doubled: safe as a database or table name in any statement."""
    return "`" + name.replace("`", "``") + "`"


def grant_pattern(database: str) -> str:
    """A quoted database name for ``GRANT ... ON <it>.*``: ``_`` and ``%`` are wildcards there, so escaped."""
    return quote_identifier(database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%"))


def native_password_hash(password: str) -> str:
    """The ``mysql_native_password`` verifier of ``password`` (``*`` + SHA1(SHA1(password))), computed here."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def first_line(exc: BaseException) -> str:
    """A driver error as one line: ``(1045, "Access denied ...")`` -> ``Access denied ...``."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[1], str):
        text = args[1]
    else:
        text = str(exc)
    text = text.strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(target: Target, *, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A blocking autocommit PyMySQL connection (call it from a worker thread)."""
    import pymysql

    return pymysql.connect(
        host=target.host,
        port=target.port,
        unix_socket=target.unix_socket,
        user=target.user,
        password=target.password.encode() if target.password is not None else b"",
        database=target.database,
        connect_timeout=max(1, int(timeout)),
        read_timeout=max(30, int(timeout)),
        autocommit=True,
        charset="utf8mb4",
    )


Statement = tuple[str, Sequence[Any] | None]
"""A query and its parameters. The query is always a format string (``%s`` a parameter, ``%%`` a ``%``)."""


def run(target: Target, statements: Sequence[Statement], *, timeout: float = CONNECT_TIMEOUT) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` on one connection; the rows of each (blocking)."""
    conn = connect(target, timeout=timeout)
    try:
        results: list[list[tuple[Any, ...]]] = []
        with conn.cursor() as cur:
            for query, params in statements:
                cur.execute(query, tuple(params or ()))
                results.append(list(cur.fetchall()))
        return results
    finally:
        conn.close()


async def run_async(target: Target, statements: Sequence[Statement], *, timeout: float = CONNECT_TIMEOUT) -> list[list[tuple[Any, ...]]]:
    """:func:`run` in a worker thread."""
    import anyio

    return await anyio.to_thread.run_sync(lambda: run(target, statements, timeout=timeout))


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a failed connection or statement raises (PyMySQL's, and socket errors)."""
    import pymysql

    return (pymysql.err.MySQLError, OSError)


def error_code(exc: BaseException) -> int | None:
    """The server's error number (``1045`` access denied), when the error carries one."""
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None
