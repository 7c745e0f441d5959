"""The project lock: ``infra up``, ``down`` and ``reset`` (and the daemon) never provision one project at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import OmnitronError
from .directory import make_state_dir


@contextlib.contextmanager
def project_lock(state_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the project's lock (``infra up``/``down``/``reset`` take it)."""
    make_state_dir(state_dir)
    fd = os.open(state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            raise OmnitronError(f"another omnitron command holds {state_dir / 'lock'}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)
