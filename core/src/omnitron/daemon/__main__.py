"""``python -m omnitron.daemon --project ROOT [--foreground]``: what ``omnitron daemon start`` runs (and ``daemon run`` calls)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnitron.daemon")
    parser.add_argument("--project", required=True, type=Path, help="the project directory")
    parser.add_argument("--foreground", action="store_true", help="log to stderr too")
    parser.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)  # the lock, taken and the pid written by whoever started it
    args = parser.parse_args(argv)
    root = args.project.resolve()
    # the lock and the pid first, before the server's imports: whoever started the daemon waits for them
    from .paths import files_of, take_lock

    files = files_of(root)
    lock = args.lock_fd if args.lock_fd is not None else take_lock(files)
    if lock is not None:
        # stopped while it still loads (the server's own handler comes later): leave no stale pid behind
        signal.signal(signal.SIGTERM, lambda *_: _exit_early(files.pid))
        if args.lock_fd is None:
            files.pid.write_text(f"{os.getpid()}\n")
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by whoever started it until now
    from .server import serve

    return serve(root, foreground=args.foreground, lock=lock)


def _exit_early(pid_file: Path) -> None:
    pid_file.unlink(missing_ok=True)
    os._exit(0)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: the daemon's lock goes with the process, at once
