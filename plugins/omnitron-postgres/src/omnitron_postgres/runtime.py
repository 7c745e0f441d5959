"""PostgreSQL once it is healthy: configured databases and extensions, per-app databases.

Everything is idempotent (it runs on every ``infra up``) and goes through
psycopg with identifiers quoted by :class:`psycopg.sql.Identifier`; no SQL or
shell command is built from strings. Whether there is anything to do is asked
first over the wire protocol (:mod:`.wire`, read-only queries with bound
parameters), so an ``up`` with nothing to create does not load psycopg.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from omnitron.api import ProvisionError

if TYPE_CHECKING:
    import psycopg

    from omnitron.api import AllocationRequest, ServiceHandle

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


async def ensure_database(conn: psycopg.AsyncConnection[Any], name: str) -> bool:
    """Create database ``name`` unless it exists; ``True`` when it was created now."""
    import psycopg
    from psycopg import sql

    cur = await conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    if await cur.fetchone() is not None:
        return False
    try:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        return False  # created concurrently: fine
    except psycopg.errors.InsufficientPrivilege:
        role = conn.info.user
        raise ProvisionError(
            f"role {role!r} lacks the CREATEDB privilege, so database {name} cannot be created: "
            f"grant it (ALTER ROLE {role} CREATEDB), or create the database beforehand"
        ) from None
    return True


async def ensure_extensions(handle: ServiceHandle, dbname: str, extensions: list[str]) -> None:
    """``CREATE EXTENSION IF NOT EXISTS`` each of ``extensions`` in ``dbname``."""
    if not extensions:
        return
    import psycopg
    from psycopg import sql

    async with await connect(handle, dbname) as conn:
        for ext in extensions:
            try:
                await conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
            except psycopg.Error as exc:
                raise ProvisionError(f"service {handle.name}: database {dbname}: cannot create extension {ext}: {_first_line(exc)}") from None


async def present(handle: ServiceHandle, wanted: dict[str, list[str]]) -> bool:
    """Whether every database of ``wanted`` exists with its extensions (``False`` also when that cannot be told)."""
    from .wire import PgError, connect

    user, password = user_of(handle), handle.secret("password")
    try:
        async with await connect(handle.host, handle.port("main"), user=user, password=password, dbname=MAINTENANCE_DB, timeout=CONNECT_TIMEOUT) as conn:
            for name in wanted:
                if not await conn.query("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    return False
        for name, extensions in wanted.items():
            if extensions:
                async with await connect(handle.host, handle.port("main"), user=user, password=password, dbname=name, timeout=CONNECT_TIMEOUT) as conn:
                    installed = {row[0] for row in await conn.query("SELECT extname FROM pg_extension")}
                if not set(extensions) <= installed:
                    return False
    except (PgError, OSError):
        return False  # psycopg's way tells what is wrong
    return True


async def prepare(handle: ServiceHandle) -> None:
    """Create the configured ``databases`` and their ``extensions`` (service-wide ones in every database)."""
    config = handle.service.config
    databases: dict[str, Any] = dict(config.get("databases") or {})
    common = list(config.get("extensions") or [])
    if not databases and not common:
        return
    wanted = {MAINTENANCE_DB: common, **{name: _unique([*common, *((options or {}).get("extensions") or [])]) for name, options in databases.items()}}
    if await present(handle, wanted):
        return
    import psycopg

    if databases:
        async with await connect(handle) as conn:
            for name in databases:
                try:
                    if await ensure_database(conn, name):
                        handle.log(f"created database {name}")
                except ProvisionError as exc:
                    raise ProvisionError(f"service {handle.name}: {exc}") from None
                except psycopg.Error as exc:
                    raise ProvisionError(f"service {handle.name}: cannot create database {name}: {_first_line(exc)}") from None
    await ensure_extensions(handle, MAINTENANCE_DB, common)
    for name, options in databases.items():
        await ensure_extensions(handle, name, _unique([*common, *((options or {}).get("extensions") or [])]))


async def allocate(handle: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
    """Make the app's database exist (with the service's and the request's extensions).

    :returns: ``{"database": NAME, "user": USER}`` for ``${alloc:...}``.
    """
    if request.kind != "database":
        raise ProvisionError(f"service {handle.name}: postgres cannot allocate a {request.kind!r} (only database)")
    name = str(request.values.get("database") or request.name)
    extensions = _unique([*(handle.service.config.get("extensions") or []), *(request.params.get("extensions") or [])])
    if await present(handle, {name: extensions}):
        return {"database": name, "user": user_of(handle)}
    import psycopg

    async with await connect(handle) as conn:
        try:
            if await ensure_database(conn, name):
                handle.log(f"created database {name} for {request.app}")
        except ProvisionError as exc:
            raise ProvisionError(f"service {handle.name}: app {request.app}: {exc}") from None
        except psycopg.Error as exc:
            raise ProvisionError(f"service {handle.name}: cannot create database {name} for app {request.app}: {_first_line(exc)}") from None
    await ensure_extensions(handle, name, extensions)
    return {"database": name, "user": user_of(handle)}
