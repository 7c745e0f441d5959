"""The project lock: ``infra up``, ``down`` and ``reset`` (and the daemon) never provision one project at once.

The lock is re-entrant within one flow of control (a task and what it
calls): the daemon holds it for a whole reconcile pass and calls the same use
cases as the CLI, which take it again. Another task or process waits.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import OmnitronError
from .directory import make_state_dir

_held: contextvars.ContextVar[frozenset[Path]] = contextvars.ContextVar("omnitron_project_locks", default=frozenset())


def lock_path(state_dir: Path) -> Path:
    return (state_dir / "lock").resolve()


def holds_lock(state_dir: Path) -> bool:
    """Whether this flow of control holds the project's lock already."""
    return lock_path(state_dir) in _held.get()


def acquire_fd(state_dir: Path, *, wait: bool) -> int:
    """Open and ``flock`` the lock file; returns the descriptor (closing it releases the lock).

    :raises OmnitronError: ``wait`` is false and another command holds it.
    """
    make_state_dir(state_dir)
    fd = os.open(lock_path(state_dir), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise OmnitronError(f"another omnitron command holds {state_dir / 'lock'}; wait for it to finish") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def holding(state_dir: Path, fd: int | None) -> Iterator[None]:
    """Mark the lock held by this flow of control for the block; then close ``fd`` (when given) to release it."""
    token = _held.set(_held.get() | {lock_path(state_dir)})
    try:
        yield
    finally:
        _held.reset(token)
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def project_lock(state_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the project's lock (``infra up``/``down``/``reset`` and the daemon's passes take it)."""
    if holds_lock(state_dir):
        yield
        return
    with holding(state_dir, acquire_fd(state_dir, wait=wait)):
        yield
