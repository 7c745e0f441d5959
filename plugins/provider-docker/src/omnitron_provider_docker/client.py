"""The Docker engine client, loaded on first need: aiodocker and aiohttp, and their errors as one-line messages.

aiodocker and aiohttp are imported by :func:`load_client` on the first call
that needs them (anything that changes the engine's state, streams, or a
remote engine): reads of a local engine go through :mod:`.engine_reads`, so a
no-op ``infra up`` skips them. Until then the module-level names stand in.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import anyio

from omnitron.api import ProvisionError

from . import engine_reads

class _NotLoaded(Exception):
    """Stands for aiodocker's and aiohttp's errors until they are imported (nothing can raise them before)."""


aiodocker: Any = None
aiohttp: Any = None
DockerError: Any = _NotLoaded
ClientError: Any = _NotLoaded
multiplexed_result_stream: Any = None
ENGINE_TIMEOUT: Any = None
"""Engine calls; streams (logs, pulls, exec output, stop) have no total timeout."""


def load_client() -> None:
    global aiodocker, aiohttp, DockerError, ClientError, multiplexed_result_stream, ENGINE_TIMEOUT
    if aiodocker is not None:
        return
    import aiodocker as _aiodocker
    import aiohttp as _aiohttp
    from aiodocker.exceptions import DockerError as _DockerError
    from aiodocker.multiplexed import multiplexed_result_stream as _stream

    aiohttp, DockerError, ClientError = _aiohttp, _DockerError, _aiohttp.ClientError
    multiplexed_result_stream = _stream
    ENGINE_TIMEOUT = _aiohttp.ClientTimeout(total=120, sock_connect=10)
    aiodocker = _aiodocker


ApiError = engine_reads.EngineReadError
"""What :meth:`~.engine.DockerEngineProvider._call` raises for an engine error (``status``, ``message``), local or remote."""

NO_ENGINE_HINT = "start Docker (or set DOCKER_HOST), or use the process provider (--provider process)"


def engine_error(what: str, exc: Any) -> ProvisionError:
    if exc.status == 900:
        return ProvisionError(f"{what}: no Docker engine answers ({exc.message}): {NO_ENGINE_HINT}")
    return ProvisionError(f"{what}: {exc.message}")


@contextlib.contextmanager
def docker_errors(what: str) -> Iterator[None]:
    """Turn the engine's errors into one-line :class:`ProvisionError` s saying what was being done."""
    try:
        yield
    except (DockerError, engine_reads.EngineReadError) as exc:
        raise engine_error(what, exc) from None
    except ClientError as exc:
        raise ProvisionError(f"{what}: the Docker engine connection failed ({type(exc).__name__}: {exc})") from None


async def engine_available(timeout: float) -> bool:
    """Whether an engine answers (``DOCKER_HOST`` or the local socket) within ``timeout`` seconds."""
    if not os.environ.get("DOCKER_HOST") and not any(p.is_socket() for p in engine_reads.SOCKET_PATHS):
        return False
    local = engine_reads.local_socket()
    if local is not None:
        return await anyio.to_thread.run_sync(lambda: engine_reads.ping(local, timeout=timeout))
    load_client()
    try:
        with anyio.fail_after(timeout):
            async with aiodocker.Docker() as docker:
                await docker.version()
    except Exception:
        return False
    return True


STDIN_CHUNK = 1 << 16


async def write_stdin(stream: Any, data: bytes) -> None:
    """Write ``data`` to an exec's stdin, then close stdin (a half-close: its output can still be read).

    aiodocker's ``Stream.close`` would end the whole connection, so stdin is
    closed on the attached connection's transport, as ``docker exec -i`` does.
    """
    for start in range(0, len(data), STDIN_CHUNK):
        await stream.write_in(data[start : start + STDIN_CHUNK])
    if not data:
        await stream.write_in(b"")
    transport = stream._resp.connection.transport  # aiodocker has no public half-close
    if transport is None or not transport.can_write_eof():
        raise ProvisionError("the Docker engine connection cannot close a command's stdin on its own (no half-close)")
    transport.write_eof()
