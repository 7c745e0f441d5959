"""The detached watcher ``omnitron run`` forks before it becomes the app's command (standard library only).

It waits until the command (the same pid, after ``exec``) or a child of it
listens on TCP, then hands what it saw to a callback, which records it (see
:mod:`omnitron.usecases.listening`). Double-forked, in a session of its own,
with the standard streams on ``/dev/null``: the command never sees it as a
child, and a caller reading the command's output is never held open by it.
Linux only (it reads ``/proc``).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from collections.abc import Callable

WATCH_FOR = 120.0
"""Seconds the watcher waits for the app to listen before it gives up."""
SETTLE = 0.15
"""Seconds the observed ports must stay the same before they are recorded."""


def watch_in_background(on_listening: Callable[[int, set[tuple[str, int]]], object]) -> None:
    """Fork the watcher of this process; in it, ``on_listening(pid, addresses)`` once this pid listens."""
    if not os.path.isdir("/proc/self/fd"):
        return
    target = os.getpid()
    try:
        child = os.fork()
    except OSError:
        return
    if child == 0:  # the watcher: never returns into the command line
        try:
            os.setsid()
            if os.fork() == 0:
                _detach_streams()
                seen = wait_listening(target)
                if seen is not None:
                    on_listening(target, seen)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _detach_streams() -> None:
    """Standard streams on ``/dev/null``, every other inherited descriptor closed (pipes of whoever started ``run``)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, 65536)


def wait_listening(pid: int, *, timeout: float = WATCH_FOR) -> set[tuple[str, int]] | None:
    """The addresses process ``pid`` (or a child) listens on, once they stay the same for :data:`SETTLE`; ``None`` if it exits first or never listens."""
    from .hostports import listening_addresses, process_tree

    deadline = time.monotonic() + timeout
    delay, last = 0.02, None
    while time.monotonic() < deadline:
        tree = process_tree(pid)
        if not _alive(pid):
            return None
        seen = listening_addresses(tree)
        if seen and seen == last:
            return seen
        last = seen or None
        time.sleep(SETTLE if seen else delay)
        delay = min(delay * 1.5, 0.25)
    return None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return False
    return raw[raw.rindex(")") + 2 :].split()[0] not in ("Z", "X")
