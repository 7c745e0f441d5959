"""Redis once it is healthy: one DB index per app, recorded in the state store.

Indexes are handed out from ``redisDbOffset`` (the stack's) up to the
server's ``databases`` count, skipping ``reserved`` ones and those held by
other apps; an app gets the same index on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnitron.api import ProvisionError

if TYPE_CHECKING:
    from omnitron.api import AllocationRequest, ServiceHandle


async def allocate(handle: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
    """A stable DB index for ``request.app``.

    :returns: ``{"db": "<index>"}`` for ``${alloc:db}``.
    """
    if request.kind != "redis_db":
        raise ProvisionError(f"service {handle.name}: redis cannot allocate a {request.kind!r} (only redis_db)")
    config = handle.service.config
    limit = int(config.get("databases") or 16)
    reserved = {int(i) for i in config.get("reserved") or []}
    start = handle.redis_db_offset
    if start >= limit:
        raise ProvisionError(
            f"service {handle.name}: redisDbOffset {start} leaves no DB index for {request.app}: "
            f"the server has {limit} databases (0..{limit - 1}); raise config.databases or lower redisDbOffset"
        )
    index = handle.state.allocate_index(handle.stack, handle.name, owner=request.app, start=start, limit=limit, reserved=reserved)
    await _check_index(handle, index, limit)
    return {"db": str(index)}


async def _check_index(handle: ServiceHandle, index: int, limit: int) -> None:
    """Make sure the server really has DB ``index`` (an external server may have fewer databases)."""
    from .resp import RedisReplyError, ping

    try:
        await ping(handle.host, handle.port("main"), password=handle.secret("password"), db=index, timeout=10)
    except RedisReplyError as exc:
        if exc.command != "SELECT":
            raise ProvisionError(f"service {handle.name}: the server refused {exc.command}: {exc}") from None
        raise ProvisionError(
            f"service {handle.name}: DB index {index} is not available on the server ({exc}); "
            f"config.databases says {limit}: make it match the server's `databases` setting"
        ) from None


async def fresh_copy(handle: ServiceHandle, request: AllocationRequest, values: dict[str, str], token: str) -> dict[str, str]:
    """The app's own DB index, emptied (``FLUSHDB``) for one test."""
    import redis.asyncio as aioredis

    index = int(values.get("db") or 0)
    client = aioredis.Redis(host=handle.host, port=handle.port("main"), password=handle.secret("password"), db=index, socket_timeout=10, socket_connect_timeout=10)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return dict(values)


async def drop_copy(handle: ServiceHandle, request: AllocationRequest, values: dict[str, str]) -> None:
    return None
