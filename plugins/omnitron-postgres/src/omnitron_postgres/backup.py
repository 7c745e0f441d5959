"""Backups of a PostgreSQL service: one ``pg_dump`` custom-format archive per database, made where the server runs.

``pg_dump`` and ``pg_restore`` run through the provider's exec (inside the
container, or beside the native process), so their version is the server's.
A restore replaces each database whole: it is dropped (connections closed),
created again, and ``pg_restore`` reads the archive from its stdin.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from omnitron.api import BackupFile, ProvisionError, exec_bytes

from .runtime import _first_line, connect, user_of

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

KIND = "pg_dump custom"
RESTORE_TIMEOUT = 3600.0


def file_name(index: int, database: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", database)[:100] or "db"
    return f"{index:02d}-{safe}.pgdump"


async def databases(handle: ServiceHandle) -> list[str]:
    """Every database of the server but the templates (``postgres`` included: the service's own URL points there)."""
    async with await connect(handle) as conn:
        cur = await conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY datname")
        return [row[0] for row in await cur.fetchall()]


async def backup(handle: ServiceHandle) -> list[BackupFile]:
    user = user_of(handle)
    files = []
    for i, database in enumerate(await databases(handle)):
        data = await exec_bytes(handle, ["pg_dump", "--username", user, "--format=custom", "--dbname", database], timeout=RESTORE_TIMEOUT)
        files.append(BackupFile(file_name(i, database), data, KIND, {"database": database}))
        handle.log(f"pg_dump {database}: {len(data)} bytes")
    return files


async def recreate(handle: ServiceHandle, database: str) -> None:
    """Drop ``database`` (closing its connections) and create it empty, connected to ``template1``."""
    import psycopg
    from psycopg import sql

    async with await connect(handle, "template1") as conn:
        name = sql.Identifier(database)
        try:
            if conn.info.server_version >= 130000:
                await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            else:
                await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
                await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
            await conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        except psycopg.Error as exc:
            raise ProvisionError(f"service {handle.name}: cannot recreate database {database} for the restore: {_first_line(exc)}") from None


async def restore(handle: ServiceHandle, files: list[BackupFile]) -> None:
    user = user_of(handle)
    for f in files:
        if f.kind != KIND:
            raise ProvisionError(f"service {handle.name}: {f.name} is a {f.kind!r}, not a {KIND} archive")
        database = f.meta.get("database") or f.name
        await recreate(handle, database)
        argv = ["pg_restore", "--username", user, "--dbname", database, "--single-transaction", "--exit-on-error"]
        result: Any = await handle.exec(argv, input=f.data, timeout=RESTORE_TIMEOUT)
        if result.exit_code != 0:
            raise ProvisionError(f"service {handle.name}: pg_restore of {database} failed ({result.exit_code}): {result.output.strip()[-500:]}")
        handle.log(f"restored {database} ({len(f.data)} bytes)")
