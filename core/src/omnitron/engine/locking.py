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
    so through ``progress`` and waits in a worker thread.
    """
    import anyio

    from ..state import project_lock

    cm = project_lock(project.state_dir, wait=False)
    try:
        cm.__enter__()
    except OmnitronError:
        if progress is not None:
            progress("lock", "pending", "another omnitron command holds the project lock; waiting")
        cm = project_lock(project.state_dir, wait=True)
        await anyio.to_thread.run_sync(cm.__enter__)
        if progress is not None:
            progress("lock", "ready", "acquired")
    try:
        yield
    finally:
        cm.__exit__(None, None, None)
