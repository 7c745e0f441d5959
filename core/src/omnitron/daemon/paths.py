"""Where a project's daemon keeps its files, and finding a project without loading it (standard library only)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

CONFIG_FILES = ("omnitron.config.py", "omnitron.toml")
STATE_DIRNAME = ".omnitron"
SWITCH_ENV = "OMNITRON_DAEMON"
"""``off`` (or ``0``, ``false``, ``no``): no command starts or asks a daemon (the test kits set it)."""


class DaemonFiles:
    """The daemon's files in a project's state directory (a plain class: ``dataclasses`` costs import time here)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    @property
    def socket(self) -> Path:
        return self.state_dir / "daemon.sock"

    @property
    def pid(self) -> Path:
        return self.state_dir / "daemon.pid"

    @property
    def lock(self) -> Path:
        return self.state_dir / "daemon.lock"

    @property
    def log(self) -> Path:
        return self.state_dir / "daemon.log"

    def recorded_pid(self) -> int | None:
        try:
            return int(self.pid.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


def files_of(root: Path) -> DaemonFiles:
    return DaemonFiles(root / STATE_DIRNAME)


def take_lock(files: DaemonFiles) -> int | None:
    """The daemon's own lock (``flock``), held until the process ends; ``None`` when another daemon holds it."""
    files.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(files.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def switched_off(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(SWITCH_ENV, "").strip().lower()
    return value in ("off", "0", "false", "no")


def find_root(explicit: str | None) -> Path | None:
    """The project directory the command line would use (``--project``, ``OMNITRON_PROJECT``, or from the current directory up), without reading its config."""
    explicit = explicit or os.environ.get("OMNITRON_PROJECT") or None
    if explicit:
        path = Path(explicit)
        if path.is_file():
            return path.resolve().parent
        if path.is_dir() and any((path / n).is_file() for n in CONFIG_FILES):
            return path.resolve()
        return None
    start = Path.cwd()
    for directory in (start, *start.parents):
        if any((directory / n).is_file() for n in CONFIG_FILES):
            return directory
    return None
