"""Reading a service's log file: the last lines, and following it like ``tail -f``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

ROTATE_BYTES = 10 * 1024 * 1024
"""A log larger than this at start is moved to ``<name>.log.1`` (one old generation is kept)."""


def rotate(path: Path) -> None:
    """Keep one previous generation when the log has grown past :data:`ROTATE_BYTES`."""
    try:
        if path.stat().st_size > ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def last_lines(path: Path, count: int) -> tuple[list[str], int]:
    """The last ``count`` lines of ``path`` and the offset just after them (reads backwards in blocks)."""
    try:
        with open(path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            if count <= 0:
                return [], end
            pos = end
            data = b""
            while pos > 0 and data.count(b"\n") <= count:
                step = min(65536, pos)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except FileNotFoundError:
        return [], 0
    lines = data.decode(errors="replace").splitlines()
    return lines[-count:], end


async def read_log(path: Path, *, follow: bool = False, tail: int | None = None, interval: float = 0.2) -> AsyncIterator[str]:
    """Lines of the log (all, or the last ``tail``), then new ones as they come when ``follow``.

    A truncated or replaced file (rotation) is read again from its start.
    """
    if tail is None:
        offset = 0
    else:
        lines, offset = last_lines(path, tail)
        for line in lines:
            yield line
    inode = _inode(path)
    partial = b""
    while True:
        try:
            with open(path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                if size < offset:
                    offset = 0
                f.seek(offset)
                chunk = f.read()
                offset = f.tell()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            *complete, partial = (partial + chunk).split(b"\n")
            for raw in complete:
                yield raw.decode(errors="replace")
        if not follow:
            if partial:
                yield partial.decode(errors="replace")
            return
        await anyio.sleep(interval)
        current = _inode(path)
        if current != inode:
            inode, offset = current, 0


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None
