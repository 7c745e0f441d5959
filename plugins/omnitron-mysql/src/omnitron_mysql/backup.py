"""Backups of a MySQL or MariaDB service: one ``mysqldump`` (SQL) per database, made where the server runs.

A restore replaces each database whole: dropped, then the dump (which creates
it again) fed to the ``mysql`` client's stdin where the server runs. App
accounts and their grants live outside the databases and stay as they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from omnitron.api import BackupFile, ProvisionError, exec_bytes

from .client import in_service
from .runtime import _run, root_target
from .sql import quote_identifier, run_async

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

KIND = "mysqldump sql"
SYSTEM_DATABASES = frozenset({"information_schema", "mysql", "performance_schema", "sys"})
TIMEOUT = 3600.0
DUMP_ARGS = ["--single-transaction", "--routines", "--triggers", "--events", "--hex-blob"]


async def databases(handle: ServiceHandle) -> list[str]:
    rows = (await run_async(root_target(handle), [("SHOW DATABASES", None)]))[0]
    return sorted(r[0] for r in rows if r[0] not in SYSTEM_DATABASES)


async def backup(handle: ServiceHandle) -> list[BackupFile]:
    files = []
    for i, database in enumerate(await databases(handle)):
        argv = in_service(handle.service.provider, "mysqldump", [*DUMP_ARGS, "--databases", database])
        data = await exec_bytes(handle, argv, timeout=TIMEOUT)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", database)[:100] or "db"
        files.append(BackupFile(f"{i:02d}-{safe}.sql", data, KIND, {"database": database}))
        handle.log(f"mysqldump {database}: {len(data)} bytes")
    return files


async def restore(handle: ServiceHandle, files: list[BackupFile]) -> None:
    for f in files:
        if f.kind != KIND:
            raise ProvisionError(f"service {handle.name}: {f.name} is a {f.kind!r}, not a {KIND}")
        database = f.meta.get("database") or f.name
        await _run(handle, [(f"DROP DATABASE IF EXISTS {quote_identifier(database)}", None)], f"cannot drop database {database} for the restore")
        result = await handle.exec(in_service(handle.service.provider, "mysql", []), input=f.data, timeout=TIMEOUT)
        if result.exit_code != 0:
            raise ProvisionError(f"service {handle.name}: restoring {database} failed ({result.exit_code}): {result.output.strip()[-500:]}")
        handle.log(f"restored {database} ({len(f.data)} bytes)")
