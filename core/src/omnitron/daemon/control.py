"""Starting, stopping and asking about a project's daemon from the command line (standard library only).

A daemon runs when it holds ``daemon.lock``. One that was killed (SIGKILL)
leaves its pid file and socket behind but not the lock: :func:`status` calls
that ``stale``, and :func:`start` replaces it. Starting detaches the daemon
completely (its own session, reparented to init), with the environment of the
command that started it; two concurrent starts give one daemon (the second
exits at once, finding the lock taken) and both report it.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..digests import env_fingerprint
from . import wire
from .paths import DaemonFiles, files_of, switched_off

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass
class DaemonStatus:
    root: Path
    running: bool
    pid: int | None = None
    stale: bool = False
    """A pid file is left by a daemon that did not stop cleanly (killed)."""
    health: dict[str, Any] | None = None
    """What the running daemon says of itself (``GET /health``)."""

    def as_json(self) -> dict[str, Any]:
        files = files_of(self.root)
        return {"running": self.running, "pid": self.pid, "stale": self.stale, "socket": str(files.socket), "log": str(files.log), "daemon": self.health}


def lock_held(files: DaemonFiles) -> bool:
    """Whether a daemon holds the project's daemon lock now."""
    if not files.lock.exists():
        return False
    fd = os.open(files.lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def status(root: Path) -> DaemonStatus:
    files = files_of(root)
    pid = files.recorded_pid()
    if not lock_held(files):
        return DaemonStatus(root, False, pid, stale=pid is not None)
    try:
        reply = wire.request(files.socket, "GET", "/health", timeout=5.0)
        health = reply.json() if reply.status == 200 else None
    except (wire.WireError, ValueError):
        health = None
    return DaemonStatus(root, True, (health or {}).get("pid", pid), health=health)


def _spawn(root: Path, files: DaemonFiles) -> int | None:
    """Start ``python -m omnitron.daemon`` detached: double fork, its own session, output to its log; its pid, or
    ``None`` when another daemon took the lock first.

    The grandchild takes the daemon's lock and writes its pid before it becomes the daemon (``exec``), so the
    caller knows at once, without waiting for an interpreter to start, that the daemon runs: the lock's file
    descriptor is handed to it (``--lock-fd``), and SIGTERM stays blocked until the daemon can handle it.
    """
    files.state_dir.mkdir(parents=True, exist_ok=True)
    lock_path, pid_path = os.fsencode(files.lock), os.fsencode(files.pid)
    log_fd = os.open(files.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    told, tell = os.pipe()
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the forked child: system calls only until exec
            try:
                os.close(told)
                os.setsid()
                if os.fork() != 0:
                    os._exit(0)
                lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.write(tell, b"-")  # another daemon runs
                    os._exit(0)
                pid = os.getpid()
                out = os.open(pid_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.write(out, b"%d\n" % pid)
                os.close(out)
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                os.write(tell, b"%d" % pid)
                os.set_inheritable(lock, True)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(log_fd, 1)
                os.dup2(log_fd, 2)
                os.chdir(root)
                os.execv(sys.executable, [sys.executable, "-m", "omnitron.daemon", "--project", str(root), "--lock-fd", str(lock)])
            finally:
                os._exit(127)
        os.close(tell)
        tell = -1
        os.waitpid(child, 0)
        answer = b""
        while chunk := os.read(told, 32):
            answer += chunk
    finally:
        os.close(log_fd)
        os.close(told)
        if tell >= 0:
            os.close(tell)
    return int(answer) if answer.isdigit() else None


def start(root: Path, *, timeout: float = START_TIMEOUT, wait: bool = True) -> tuple[DaemonStatus, str]:
    """Start the project's daemon unless one runs; returns its status and what happened (for people).

    :param wait: until its API answers; otherwise only until it holds its lock
        and wrote its pid (it answers a moment later; commands meanwhile work without it).
    """
    files = files_of(root)
    before = status(root)
    if before.running:
        note = "already running"
    else:
        note = f"the previous daemon (pid {before.pid}) had stopped without cleaning up; started" if before.stale else "started"
        if before.stale:
            files.pid.unlink(missing_ok=True)
        pid = _spawn(root, files)
        if pid is not None and not wait:
            return DaemonStatus(root, True, pid), f"{note} (pid {pid})"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not wait and lock_held(files) and files.recorded_pid() is not None:
            return DaemonStatus(root, True, files.recorded_pid()), f"{note} (pid {files.recorded_pid()})"
        now = status(root)
        if now.running and now.health is not None:
            return now, f"{note} (pid {now.pid})"
        time.sleep(0.02)
    raise RuntimeError(f"the daemon did not answer within {timeout:g}s; see {files.log}")


def stop(root: Path, *, timeout: float = STOP_TIMEOUT) -> tuple[bool, str]:
    """SIGTERM the project's daemon and wait until it is gone (SIGKILL after ``timeout``); ``(was running, note)``."""
    files = files_of(root)
    st = status(root)
    if not st.running:
        if st.stale:
            files.pid.unlink(missing_ok=True)
            files.socket.unlink(missing_ok=True)
            return False, f"not running (a daemon, pid {st.pid}, had stopped without cleaning up)"
        return False, "not running"
    pid = st.pid
    if pid is None or not _is_daemon(pid, root):
        return True, f"a daemon holds {files.lock} but its pid is unknown; stop it by hand"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_held(files):
            return True, f"stopped (pid {pid})"
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    while lock_held(files):
        time.sleep(0.02)
    files.socket.unlink(missing_ok=True)
    files.pid.unlink(missing_ok=True)
    return True, f"killed (pid {pid}): it did not stop within {timeout:g}s of SIGTERM"


def _is_daemon(pid: int, root: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"omnitron.daemon" in cmdline or b"daemon" in cmdline


def fingerprint_of(root: Path) -> str | None:
    try:
        reply = wire.request(files_of(root).socket, "GET", "/config", timeout=5.0)
    except wire.WireError:
        return None
    return reply.json().get("fingerprint") if reply.status == 200 else None


def ensure(root: Path) -> str:
    """After ``infra up``: the daemon runs, with this command's environment (restarted when it had another); returns a note."""
    st = status(root)
    if st.running:
        if fingerprint_of(root) == env_fingerprint():
            try:  # it takes up a newly kept stack now, not at its next pass
                wire.request(files_of(root).socket, "POST", "/reconcile", {"wait": False}, timeout=2.0)
            except wire.WireError:
                pass
            return f"running (pid {st.pid})"
        stop(root)
        _, note = start(root, wait=False)
        return note + " (restarted: this command's environment differs from the one it ran with)"
    _, note = start(root, wait=False)
    return note


def allowed(no_daemon: bool = False, ecosystem_allows: bool = True) -> bool:
    """Whether a command may start the daemon: not ``--no-daemon``, not ``daemon: false``, not ``OMNITRON_DAEMON=off``."""
    return not no_daemon and ecosystem_allows and not switched_off()
