"""The project lock, taken without blocking the event loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..errors import OmnitronError

if TYPE_CHECKING:
    from ..project import Project
    from ..providers import ProgressFn


@contextlib.asynccontextmanager
async def locked(project: Project, progress: ProgressFn | None = None) -> AsyncIterator[None]:
    """Hold the project's lock (:func:`omnitron.state.project_lock`) for the block.

    Tries once without waiting; when another omnitron command holds it, says
    so through ``progress`` and waits in a worker thread. Re-entrant: a block
    inside one that holds it goes straight in.
    """
    import anyio

    from ..state.lock import acquire_fd, holding, holds_lock

    if holds_lock(project.state_dir):
        yield
        return
    try:
        fd = acquire_fd(project.state_dir, wait=False)
    except OmnitronError:
        if progress is not None:
            progress("lock", "pending", "another omnitron command holds the project lock; waiting")
        fd = await anyio.to_thread.run_sync(lambda: acquire_fd(project.state_dir, wait=True))
        if progress is not None:
            progress("lock", "ready", "acquired")
    with holding(project.state_dir, fd):
        yield
