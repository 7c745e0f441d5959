"""Backups of a Redis service: an RDB snapshot of the whole server, every DB index in it.

``BGSAVE`` writes the snapshot where the server runs; its bytes are read
through the provider's exec. A restore writes the snapshot over the server's
RDB file (through exec, from stdin), makes the append-only files (which would
win over it) hold the same snapshot, and shuts the server down without saving: the engine starts it
again and Redis loads the snapshot.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from omnitron.api import BackupFile, ProvisionError, exec_bytes, poll_attempts

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

KIND = "redis rdb"
SAVE_TIMEOUT = 600.0
WRITE = 'cat > "$1.omnitron-restore" && mv -f "$1.omnitron-restore" "$1"'


def client(handle: ServiceHandle) -> Any:
    import redis.asyncio as aioredis

    return aioredis.Redis(host=handle.host, port=handle.port("main"), password=handle.secret("password"), socket_timeout=30, socket_connect_timeout=10)


async def rdb_path(conn: Any) -> str:
    directory = (await conn.config_get("dir"))["dir"]
    name = (await conn.config_get("dbfilename"))["dbfilename"]
    return posixpath.join(directory, name)


async def snapshot(handle: ServiceHandle, conn: Any) -> None:
    """``BGSAVE`` and wait until it has finished (one already running is waited for, then a new one is made)."""
    from redis.exceptions import ResponseError

    async def finished() -> dict[str, Any]:
        async for _ in poll_attempts(SAVE_TIMEOUT, first=0.01, cap=0.2):
            info = await conn.info("persistence")
            if not info.get("rdb_bgsave_in_progress"):
                return info
        raise ProvisionError(f"service {handle.name}: the snapshot did not finish within {SAVE_TIMEOUT:g}s")

    try:
        await conn.bgsave()
    except ResponseError as exc:  # a save already running: let it finish, then take ours
        if "in progress" not in str(exc):
            raise ProvisionError(f"service {handle.name}: BGSAVE: {exc}") from None
        await finished()
        await conn.bgsave()
    info = await finished()
    if info.get("rdb_last_bgsave_status") != "ok":
        raise ProvisionError(f"service {handle.name}: the snapshot failed (rdb_last_bgsave_status {info.get('rdb_last_bgsave_status')}); see `omnitron infra logs {handle.name}`")


async def backup(handle: ServiceHandle) -> list[BackupFile]:
    conn = client(handle)
    try:
        path = await rdb_path(conn)
        await snapshot(handle, conn)
        keys = sum(v.get("keys", 0) for k, v in (await conn.info("keyspace")).items() if isinstance(v, dict))
    finally:
        await conn.aclose()
    data = await exec_bytes(handle, ["cat", path], timeout=SAVE_TIMEOUT)
    handle.log(f"RDB snapshot: {len(data)} bytes, {keys} keys")
    return [BackupFile("dump.rdb", data, KIND, {"keys": str(keys)})]


async def restore(handle: ServiceHandle, files: list[BackupFile]) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    rdb = next((f for f in files if f.kind == KIND), None)
    if rdb is None or not rdb.data.startswith(b"REDIS"):
        raise ProvisionError(f"service {handle.name}: the backup holds no RDB snapshot")
    conn = client(handle)
    try:
        path = await rdb_path(conn)
        written = await handle.exec(["sh", "-c", WRITE, "restore", path], input=rdb.data, timeout=SAVE_TIMEOUT)
        if written.exit_code != 0:
            raise ProvisionError(f"service {handle.name}: cannot write {path}: {written.output.strip()[-300:]}")
        if (await conn.config_get("appendonly")).get("appendonly") == "yes":
            await _drop_append_only(handle, conn, path)
        try:
            await conn.shutdown(nosave=True)
        except RedisConnectionError:
            pass  # the server closed the connection as it went down
    finally:
        await conn.aclose()
    handle.log(f"wrote the snapshot to {path}; the server loads it when it starts again")


AOF_FROM_RDB = (
    # a fresh append-only directory whose base is the snapshot, owned like the data directory, swapped in at once
    'rdb="$1"; aof="$2"; name="$3"; new="$aof.omnitron-restore"; owner=$(stat -c %u:%g "$(dirname "$aof")") || exit 1; '
    'rm -rf "$new" && mkdir "$new" && cp "$rdb" "$new/$name.1.base.rdb" '
    '&& printf \'file %s.1.base.rdb seq 1 type b\\n\' "$name" > "$new/$name.manifest" '
    '&& chown -R "$owner" "$new" && rm -rf "$aof" && mv "$new" "$aof"'
)


async def _drop_append_only(handle: ServiceHandle, conn: Any, rdb: str) -> None:
    """Make the append-only files hold the snapshot: at start Redis loads them, not the RDB file.

    Redis 7 keeps them in a directory with a manifest: the snapshot becomes its
    base file. An older Redis has one file, which may begin with an RDB preamble:
    the snapshot becomes that file.
    """
    directory = posixpath.dirname(rdb)
    name = (await conn.config_get("appendfilename")).get("appendfilename") or "appendonly.aof"
    aof_dir = (await conn.config_get("appenddirname")).get("appenddirname")
    if aof_dir:
        command = ["sh", "-c", AOF_FROM_RDB, "restore-aof", rdb, posixpath.join(directory, aof_dir), name]
    else:
        command = ["sh", "-c", 'cp "$1" "$2.omnitron-restore" && mv -f "$2.omnitron-restore" "$2"', "restore-aof", rdb, posixpath.join(directory, name)]
    result = await handle.exec(command)
    if result.exit_code != 0:
        raise ProvisionError(f"service {handle.name}: cannot put the snapshot in the append-only files: {result.output.strip()[-300:]}")
