"""The daemon process: one per project, its files, its loop, its API on the socket, a clean stop on SIGTERM.

:func:`serve` holds ``daemon.lock`` (``flock``) for its whole life, so a
second daemon of the project exits at once; it writes ``daemon.pid``, binds
``daemon.sock`` with mode 0600 (no window where it is wider), logs to
``daemon.log`` (rotated at 1 MiB, 3 kept) and runs :class:`Daemon`: the
reconcile loop over every stack the project keeps, the path watcher, and the
API (:mod:`.api`). SIGTERM or SIGINT stops it within a few seconds: work in
progress is cancelled, the socket and pid file are removed.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import logging.handlers
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..digests import env_fingerprint
from ..errors import OmnitronError
from .keeper import StackKeeper
from .paths import DaemonFiles, files_of

if TYPE_CHECKING:
    from ..plugins import PluginManager
    from ..state import StateStore
    from .reconcile import PassResult

log = logging.getLogger("omnitron.daemon")

ALREADY_RUNNING = 3
"""Exit code of a daemon that found another one running for its project."""
LOG_BYTES = 1_048_576
LOG_BACKUPS = 3
STOP_GRACE = 3.0
"""Seconds the API gets to finish open requests on stop (streams are cut)."""


class Daemon:
    """The daemon's state: the stacks it keeps and the lock that serialises its own work."""

    def __init__(self, root: Path, plugins: PluginManager) -> None:
        self.root = root
        self.files = files_of(root)
        self.plugins = plugins
        self.keepers: dict[str, StackKeeper] = {}
        self.work = asyncio.Lock()
        self.kick = asyncio.Event()
        self.stopping = asyncio.Event()
        self.started = time.time()
        self.fingerprint = env_fingerprint()
        self.last: dict[str, PassResult] = {}

    def state(self) -> StateStore:
        from ..state import StateStore

        return StateStore(self.files.state_dir)

    def kept(self) -> list[str]:
        with self.state() as state:
            return state.kept_stacks()

    def default_stack(self) -> str:
        for keeper in self.keepers.values():
            if keeper.ecosystem is not None:
                return keeper.ecosystem.default_stack
        from ..project import Project

        return Project.discover(self.root, plugins=self.plugins).default_stack()

    def declared_stacks(self) -> set[str]:
        """The stacks the project's config declares now (``set()`` when it does not load)."""
        from ..project import Project

        try:
            return set(Project.discover(self.root, plugins=self.plugins).loaded.ecosystem.stacks)
        except OmnitronError:
            return set()

    def keeper(self, name: str) -> StackKeeper:
        if name not in self.keepers:
            self.keepers[name] = StackKeeper(self.root, name, self.plugins)
        return self.keepers[name]

    def sync_keepers(self) -> list[StackKeeper]:
        """A keeper for every stack the project keeps now (those no longer kept are dropped)."""
        kept = self.kept()
        for name in list(self.keepers):
            if name not in kept:
                del self.keepers[name]
        return [self.keeper(name) for name in kept]

    async def run_pass(self, keeper: StackKeeper, *, source: str = "tick") -> PassResult:
        """One pass over ``keeper``'s stack, under the daemon's work lock and the project lock (skipped when a command holds it)."""
        from ..state.lock import acquire_fd, holding
        from .reconcile import PassResult, run_pass

        async with self.work:
            with self.state() as state:
                usable = keeper.refresh(state)
            if not usable:
                return PassResult(keeper.name, skipped=f"config error: {keeper.error}")
            try:
                fd = acquire_fd(self.files.state_dir, wait=False)
            except OmnitronError:
                keeper.next_due = time.time() + 1.0
                return PassResult(keeper.name, skipped="another omnitron command holds the project lock")
            with holding(self.files.state_dir, fd):
                with self.state() as state:
                    if not state.is_kept(keeper.name):
                        return PassResult(keeper.name, skipped="the stack is no longer kept (infra down)")
                try:
                    result = await run_pass(keeper, source=source)
                except Exception as exc:  # never let one pass take the daemon down
                    log.exception("stack %s: pass failed", keeper.name)
                    with self.state() as state:
                        state.record_event(keeper.name, "", "pass-error", f"the pass stopped: {type(exc).__name__}: {exc}")
                    result = PassResult(keeper.name, skipped=f"error: {type(exc).__name__}: {exc}")
            keeper.next_due = time.time() + keeper.interval
            self.last[keeper.name] = result
            return result

    async def loop(self, watcher: Any) -> None:
        """Forever: pass over every kept stack when it is due (or when kicked), then sleep until the next one is."""
        while True:
            self.kick.clear()
            keepers = self.sync_keepers()
            now = time.time()
            for keeper in keepers:
                if keeper.next_due <= now:
                    await self.run_pass(keeper)
            watcher.update(keepers)
            due = min((k.next_due for k in keepers), default=time.time() + 5.0)
            try:
                await asyncio.wait_for(self.kick.wait(), timeout=max(0.05, due - time.time()))
            except asyncio.TimeoutError:
                pass

    async def chores_for(self, stack: str, services: set[str]) -> None:
        """Run ``maintain`` for ``services`` of ``stack`` now (a watched path changed)."""
        from ..engine.session import Session
        from .chores import maintain_all

        keeper = self.keepers.get(stack)
        if keeper is None or keeper.stack is None:
            return
        async with self.work:
            async with Session(keeper.stack.project, keeper.stack.plan) as session:
                done = await maintain_all(session, keeper, None, only=services)
        if done:
            with self.state() as state:
                state.record_event(stack, ",".join(sorted(done)), "maintain", "a watched path changed")


def setup_logging(files: DaemonFiles, *, foreground: bool) -> None:
    files.state_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(files.log, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
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


def take_lock(files: DaemonFiles) -> int | None:
    """The daemon's own lock, held until the process ends; ``None`` when another daemon holds it."""
    files.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(files.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def serve(root: Path, *, foreground: bool = False, plugins: PluginManager | None = None) -> int:
    """Run the daemon of the project at ``root`` until SIGTERM/SIGINT; returns the exit code."""
    files = files_of(root)
    fd = take_lock(files)
    if fd is None:
        pid = files.recorded_pid()
        print(f"omnitron daemon: already running for {root} (pid {pid})")
        return ALREADY_RUNNING
    setup_logging(files, foreground=foreground)
    if plugins is None:
        from ..plugins import default_manager

        plugins = default_manager()
    files.pid.write_text(f"{os.getpid()}\n")
    try:
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

    from .wire import MAX_PATH

    path = files.socket
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        if len(str(path)) > MAX_PATH:
            dirfd = os.open(path.parent, os.O_PATH)
            try:
                sock.bind(f"/proc/self/fd/{dirfd}/{path.name}")
            finally:
                os.close(dirfd)
        else:
            sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(64)
    sock.setblocking(False)
    return sock
