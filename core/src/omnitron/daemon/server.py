"""The daemon process: one per project, its files, its API on the socket, a clean stop on SIGTERM.

:func:`serve` holds ``daemon.lock`` (``flock``) for its whole life, so a
second daemon of the project exits at once; it writes ``daemon.pid``, binds
``daemon.sock`` with mode 0600 (no window where it is wider), logs to
``daemon.log`` (rotated at 1 MiB, 3 kept) and runs :class:`Daemon`: the
reconcile loop over every stack the project keeps (:mod:`.keeping`), the path
watcher, and the API (:mod:`.api`). SIGTERM or SIGINT stops it within a few seconds: work in
progress is cancelled, the socket and pid file are removed.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .keeping import Daemon
from .paths import DaemonFiles, files_of, take_lock

if TYPE_CHECKING:
    from ..plugins import PluginManager

log = logging.getLogger("omnitron.daemon")

ALREADY_RUNNING = 3
"""Exit code of a daemon that found another one running for its project."""
LOG_BYTES = 1_048_576
LOG_BACKUPS = 3
STOP_GRACE = 1.5
"""Seconds the loop and then the API each get to finish on stop (SIGTERM ends the daemon within 5 s)."""


class PrivateLog(logging.handlers.RotatingFileHandler):
    """A rotated log whose every file (the new one after each rotation too) is created with mode 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(files: DaemonFiles, *, foreground: bool) -> None:
    files.state_dir.mkdir(parents=True, exist_ok=True)
    handler = PrivateLog(files.log, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("omnitron.daemon")
    root.handlers[:] = [handler]
    if foreground:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("omnitron daemon: %(message)s"))
        root.addHandler(stream)
    root.setLevel(logging.INFO)
    root.propagate = False
    os.chmod(files.log, 0o600)


def _stacks_on_sigusr1(files: DaemonFiles) -> None:
    """``kill -USR1 <pid>`` appends every thread's Python stack to ``daemon.log`` (what a stuck daemon is doing)."""
    import faulthandler

    global _DUMP  # the file stays open for the daemon's life
    _DUMP = open(files.log, "a")  # noqa: SIM115
    faulthandler.register(signal.SIGUSR1, file=_DUMP, all_threads=True)


_DUMP: Any = None


def serve(root: Path, *, foreground: bool = False, plugins: PluginManager | None = None, lock: int | None = None) -> int:
    """Run the daemon of the project at ``root`` until SIGTERM/SIGINT; returns the exit code.

    :param lock: the daemon's lock, already taken by this process (see :mod:`.__main__`); taken here otherwise.
    """
    files = files_of(root)
    fd = lock if lock is not None else take_lock(files)
    if fd is None:
        pid = files.recorded_pid()
        print(f"omnitron daemon: already running for {root} (pid {pid})")
        return ALREADY_RUNNING
    files.pid.write_text(f"{os.getpid()}\n")
    try:
        setup_logging(files, foreground=foreground)
        _stacks_on_sigusr1(files)
        if plugins is None:
            from ..plugins import default_manager

            plugins = default_manager()
        asyncio.run(_main(Daemon(root, plugins)))
    finally:
        for path in (files.socket, files.pid):
            path.unlink(missing_ok=True)
        log.info("stopped")
        logging.shutdown()
    # the lock (``fd``) stays held until the process is gone: whoever waits for it knows the daemon exited
    return 0


async def _main(daemon: Daemon) -> None:
    from aiohttp import web

    from .api import make_app
    from .chores import PathWatcher

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stopping.set)
    runner = web.AppRunner(make_app(daemon), handle_signals=False, shutdown_timeout=STOP_GRACE, access_log=None)
    await runner.setup()
    sock = bind(daemon.files)
    site = web.SockSite(runner, sock)
    await site.start()
    log.info("started: pid %d, project %s, socket %s", os.getpid(), daemon.root, daemon.files.socket)
    watcher = PathWatcher(daemon.chores_for)
    tasks = [asyncio.create_task(daemon.loop(watcher)), asyncio.create_task(watcher.run())]
    try:
        await daemon.stopping.wait()
    finally:
        log.info("stopping")
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=STOP_GRACE)
        await runner.cleanup()


def bind(files: DaemonFiles) -> Any:
    """The listening socket at ``daemon.sock``, mode 0600 from the start (a stale one, of a killed daemon, is replaced)."""
    import socket

    from .wire import at_path

    path = files.socket
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        at_path(path, sock.bind)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(64)
    sock.setblocking(False)
    return sock
