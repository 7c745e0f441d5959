"""PostgreSQL once it is healthy: configured databases and extensions, per-app databases.

Everything is idempotent (it runs on every ``infra up``) and speaks the wire
protocol (:mod:`.wire`): what exists is asked with bound parameters, and
what is missing is created with identifiers quoted by
:func:`~.wire.quote_ident` (and restricted to plain identifiers by the
preset's config). :func:`connect` (psycopg) is what backups and test copies use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from omnitron.api import ProvisionError

if TYPE_CHECKING:
    import psycopg

    from omnitron.api import AllocationRequest, ServiceHandle

    from . import wire

MAINTENANCE_DB = "postgres"
CONNECT_TIMEOUT = 10


def user_of(handle: ServiceHandle) -> str:
    return str(handle.service.config.get("user") or "postgres")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


async def connect(handle: ServiceHandle, dbname: str = MAINTENANCE_DB) -> psycopg.AsyncConnection[Any]:
    """An autocommit connection to ``dbname`` as the service's user (password from the secret store)."""
    import psycopg

    try:
        return await psycopg.AsyncConnection.connect(
            host=handle.host,
            port=handle.port("main"),
            user=user_of(handle),
            password=handle.secret("password"),
            dbname=dbname,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except psycopg.Error as exc:
        raise ProvisionError(f"service {handle.name}: cannot connect to database {dbname}: {_first_line(exc)}") from None


async def open_wire(handle: ServiceHandle, dbname: str = MAINTENANCE_DB) -> wire.Connection:
    """A :mod:`.wire` connection to ``dbname`` as the service's user (password from the secret store)."""
    from . import wire

    try:
        return await wire.connect(handle.host, handle.port("main"), user=user_of(handle), password=handle.secret("password"), dbname=dbname, timeout=CONNECT_TIMEOUT)
    except (wire.PgError, OSError) as exc:
        raise ProvisionError(f"service {handle.name}: cannot connect to database {dbname}: {_first_line(exc)}") from None


async def ensure_database(conn: wire.Connection, name: str, role: str) -> bool:
    """Create database ``name`` unless it exists; ``True`` when it was created now.

    :raises ProvisionError: ``role`` may not create databases.
    :raises wire.PgError: the server refused otherwise.
    """
    from .wire import PgError, quote_ident

    if await conn.query("SELECT 1 FROM pg_database WHERE datname = $1", name):
        return False
    try:
        await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    except PgError as exc:
        if exc.code == "42P04":
            return False  # created concurrently: fine
        if exc.code == "42501":
            raise ProvisionError(
                f"role {role!r} lacks the CREATEDB privilege, so database {name} cannot be created: "
                f"grant it (ALTER ROLE {role} CREATEDB), or create the database beforehand"
            ) from None
        raise
    return True


async def ensure_extensions(handle: ServiceHandle, dbname: str, extensions: list[str], conn: wire.Connection | None = None) -> None:
    """``CREATE EXTENSION`` each of ``extensions`` that ``dbname`` lacks (through ``conn`` when it is connected there)."""
    if not extensions:
        return
    if conn is None:
        async with await open_wire(handle, dbname) as own:
            return await ensure_extensions(handle, dbname, extensions, own)
    from .wire import PgError, quote_ident

    installed = {row[0] for row in await conn.query("SELECT extname FROM pg_extension")}
    for ext in extensions:
        if ext in installed:
            continue
        try:
            await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {quote_ident(ext)}")
        except PgError as exc:
            raise ProvisionError(f"service {handle.name}: database {dbname}: cannot create extension {ext}: {_first_line(exc)}") from None


async def _make_database(handle: ServiceHandle, conn: wire.Connection, name: str, app: str | None = None) -> bool:
    """:func:`ensure_database`, its errors naming the service (and the app the database is for)."""
    from .wire import PgError

    try:
        return await ensure_database(conn, name, user_of(handle))
    except ProvisionError as exc:
        raise ProvisionError(f"service {handle.name}: {f'app {app}: ' if app else ''}{exc}") from None
    except PgError as exc:
        raise ProvisionError(f"service {handle.name}: cannot create database {name}{f' for app {app}' if app else ''}: {_first_line(exc)}") from None


async def prepare(handle: ServiceHandle) -> None:
    """Create the configured ``databases`` and their ``extensions`` (service-wide ones in every database).

    One connection to the maintenance database (its own extensions, and which
    databases to create), and one to each configured database that needs extensions.
    """
    config = handle.service.config
    databases: dict[str, Any] = dict(config.get("databases") or {})
    common = list(config.get("extensions") or [])
    if not databases and not common:
        return
    async with await open_wire(handle) as conn:
        await ensure_extensions(handle, MAINTENANCE_DB, common, conn)
        for name in databases:
            if await _make_database(handle, conn, name):
                handle.log(f"created database {name}")
    for name, options in databases.items():
        await ensure_extensions(handle, name, _unique([*common, *((options or {}).get("extensions") or [])]))


async def allocate(handle: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
    """Make the app's database exist (with the service's and the request's extensions).

    Two connections: to the maintenance database (is the app's there? create
    it), then to the app's (which extensions has it? create the others).

    :returns: ``{"database": NAME, "user": USER}`` for ``${alloc:...}``.
    """
    if request.kind != "database":
        raise ProvisionError(f"service {handle.name}: postgres cannot allocate a {request.kind!r} (only database)")
    name = str(request.values.get("database") or request.name)
    extensions = _unique([*(handle.service.config.get("extensions") or []), *(request.params.get("extensions") or [])])
    async with await open_wire(handle) as conn:
        if await _make_database(handle, conn, name, request.app):
            handle.log(f"created database {name} for {request.app}")
    await ensure_extensions(handle, name, extensions)
    return {"database": name, "user": user_of(handle)}
