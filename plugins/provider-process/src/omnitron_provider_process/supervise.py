"""Detached processes: start one in its own session, find it again, stop its whole group.

A service is started in a new session (so it is the leader of its own
process group and no terminal signal reaches it), with stdin from a pipe that
is written then closed, and stdout/stderr appended to its log file. It
outlives the command that started it. Later commands recognise it by its pid,
its process group, the start time the kernel gives the pid and the
executable it runs, so a recycled pid is never taken for ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from omnitron.api import poll_attempts

from .accounts import Account


class _Detached(subprocess.Popen):
    """A child meant to outlive this process: no "still running" warning when the handle is dropped."""

    def __del__(self) -> None:
        return None


@dataclass(frozen=True)
class Identity:
    """What tells our process from another one that got the same pid later."""

    pid: int
    pgid: int
    exe: str
    """Real path of the executable."""
    starttime: int | None
    """Start time of the pid in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """``(state, pgid, starttime)`` of ``pid`` from ``/proc``, or ``None`` if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), int(fields[19])


def proc_exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
    except OSError:
        return None


def proc_cmdline(pid: int) -> list[str]:
    try:
        return [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        return []


def reap(pid: int) -> None:
    """Collect ``pid`` if it is our exited child (else it lingers as a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def child_alive(identity: Identity) -> bool:
    """Cheap liveness of a process this process started: reaps it when it has exited."""
    try:
        pid, _ = os.waitpid(identity.pid, os.WNOHANG)
    except ChildProcessError:
        return is_ours(identity)
    return pid == 0


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_ours(identity: Identity) -> bool:
    """Whether ``identity.pid`` is still the process we started (alive, same group, same start time and executable)."""
    reap(identity.pid)
    stat = proc_stat(identity.pid)
    if stat is None:
        return False
    state, pgid, starttime = stat
    if state in ("Z", "X") or pgid != identity.pgid:
        return False
    if identity.starttime is not None and starttime != identity.starttime:
        return False
    exe = proc_exe(identity.pid)
    if exe is not None:
        return os.path.realpath(exe) == identity.exe
    argv = proc_cmdline(identity.pid)
    return bool(argv) and Path(argv[0].split(" ", 1)[0]).name == Path(identity.exe).name


def group_members(pgid: int, exe: str | None = None) -> list[int]:
    """Live pids in process group ``pgid`` (running the executable ``exe`` when given), found with psutil.

    Only stopping asks this (psutil's import, ~50 ms, stays off the paths that just look).
    """
    import psutil

    members: list[int] = []
    for proc in psutil.process_iter(["status", "exe"]):
        try:
            if os.getpgid(proc.pid) != pgid or proc.info["status"] in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                continue
        except (ProcessLookupError, PermissionError):
            continue
        running = proc.info["exe"]
        if exe is not None and (not running or os.path.realpath(running.removesuffix(" (deleted)")) != exe):
            continue
        members.append(proc.pid)
    return members


LAUNCH_ENV = "OMNITRON_LAUNCH"
"""Env variable holding a start's marker: finds a process whose pid was never recorded (the command was killed)."""


def launched_with(marker: str) -> list[int]:
    """Pids whose environment holds ``OMNITRON_LAUNCH=<marker>`` (readable ones: ours, or all as root)."""
    wanted = f"{LAUNCH_ENV}={marker}".encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def launched_groups(marker: str) -> set[int]:
    """Process groups of the live processes started with ``marker`` (see :data:`LAUNCH_ENV`)."""
    return {stat[1] for pid in launched_with(marker) if (stat := proc_stat(pid)) is not None and stat[0] not in ("Z", "X")}


def kill_launched(marker: str, *, wait: float = 5.0) -> int:
    """``SIGKILL`` the process groups started with ``marker`` (see :data:`LAUNCH_ENV`) and wait up to ``wait``
    seconds until none of them runs any more (their ports free again); how many processes had it."""
    import time

    pids = launched_with(marker)
    for pid in pids:
        stat = proc_stat(pid)
        if stat is not None and stat[1] == pid:
            _signal_group(pid, signal.SIGKILL)
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(pids)


def _gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (an exited one is collected when it is our child; a zombie counts as gone)."""
    reap(pid)
    stat = proc_stat(pid)
    return stat is None or stat[0] in ("Z", "X")


def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path, stdin: bytes | None, account: Account | None, header: bytes = b""
) -> Identity:
    """Start ``argv`` detached: own session and process group, output appended to ``log_path`` (after ``header``)."""
    with open(log_path, "ab", buffering=0) as log:
        log.write(header)
        proc = _Detached(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=cwd,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
            user=account.uid if account else None,
            group=account.gid if account else None,
            extra_groups=[] if account else None,
            umask=0o077,
        )
    if stdin is not None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
    stat = proc_stat(proc.pid)
    return Identity(pid=proc.pid, pgid=proc.pid, exe=os.path.realpath(argv[0]), starttime=stat[2] if stat else None)


async def stop_group(identity: Identity, *, sig: int, timeout: float) -> bool:
    """Stop the group of ``identity``: ``sig``, then ``SIGKILL`` after ``timeout`` seconds; ``True`` once nothing of it is left.

    Signals go to the whole group while its leader is verifiably ours; a
    group whose leader is gone is cleaned up member by member, only those
    running our executable (PostgreSQL's backends outliving a killed
    postmaster), never anything else that happens to be in a group of that id.
    """
    leader_ours = is_ours(identity)
    exe = None if leader_ours else identity.exe
    if leader_ours:
        _signal_group(identity.pgid, sig)
    else:
        for pid in group_members(identity.pgid, exe):
            _signal(pid, sig)
    if await _wait_gone(identity, exe, timeout):
        return True
    if is_ours(identity):
        _signal_group(identity.pgid, signal.SIGKILL)
    for pid in group_members(identity.pgid, exe):
        _signal(pid, signal.SIGKILL)
    return await _wait_gone(identity, exe, 5.0)


async def _wait_gone(identity: Identity, exe: str | None, timeout: float) -> bool:
    async for _ in poll_attempts(timeout, first=0.005, cap=0.1):
        reap(identity.pid)
        if not is_ours(identity) and not group_members(identity.pgid, exe):
            reap(identity.pid)  # it may have turned into a zombie between the two looks
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def all_in_groups(pids: dict[int, str], groups: set[int]) -> bool:
    """Whether every one of ``pids`` (at least one) is in one of the process groups ``groups``."""
    if not pids:
        return False
    for pid in pids:
        stat = proc_stat(pid)
        if stat is None or stat[1] not in groups:
            return False
    return True
