"""Text arriving in chunks (a log stream, a process's output) as whole lines."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def text_lines(chunks: AsyncIterable[str]) -> AsyncIterator[str]:
    """Each line of the text ``chunks`` make, without its line end (``\\n`` or ``\\r\\n``), a line cut across
    chunks joined first; the last one too when the text does not end with a line end."""
    pending = ""
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line.rstrip("\r")
    if pending:
        yield pending.rstrip("\r")
