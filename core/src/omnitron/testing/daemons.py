"""Daemons in test runs: off unless a test asks, and none left behind.

While pytest runs with this plugin, ``OMNITRON_DAEMON=off``: ``infra up`` starts
no daemon and no command asks one, so the many tests that bring stacks up
stay fast and leave nothing running. A test that wants the daemon uses the
``omnitron_daemon`` fixture (it switches it on for the test and stops every
daemon the test's projects started). At the end of the run, any daemon
process still running that this run started (it carries the run's
``OMNITRON_TEST_SESSION``) is killed and the run fails, naming it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SESSION_ENV = "OMNITRON_TEST_SESSION"


def pytest_configure(config: pytest.Config) -> None:
    os.environ["OMNITRON_DAEMON"] = "off"
    os.environ.setdefault(SESSION_ENV, uuid.uuid4().hex)


def leftover_daemons(session_id: str) -> list[tuple[int, str]]:
    """``(pid, command line)`` of every daemon process started by the test run ``session_id``."""
    import psutil

    found: list[tuple[int, str]] = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if "omnitron.daemon" not in cmdline and not ("daemon" in cmdline and "run" in cmdline):
                continue
            if proc.environ().get(SESSION_ENV) == session_id and proc.status() != psutil.STATUS_ZOMBIE:
                found.append((proc.pid, " ".join(cmdline)))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import signal

    left = leftover_daemons(os.environ.get(SESSION_ENV, ""))
    if not left:
        return
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"omnitron daemons left running by this test run (killed now): {', '.join(f'pid {p} ({c})' for p, c in left)}"]
    if reporter is not None:
        reporter.write_line(lines[0], red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


class DaemonSwitch:
    """What ``omnitron_daemon`` gives a test: the daemon switched on, and every project whose daemon it must stop."""

    def __init__(self) -> None:
        self.roots: list[Path] = []

    def watch(self, root: Path) -> Path:
        """Stop this project's daemon when the test ends (``infra up`` in it may start one)."""
        self.roots.append(Path(root))
        return Path(root)

    def stop_all(self) -> None:
        from ..daemon import control

        for root in self.roots:
            control.stop(root)


@pytest.fixture
def omnitron_daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[DaemonSwitch]:
    """Switch the daemon on for this test (``OMNITRON_DAEMON=on``); ``.watch(root)`` each project so its daemon is stopped afterwards."""
    monkeypatch.setenv("OMNITRON_DAEMON", "on")
    switch = DaemonSwitch()
    yield switch
    switch.stop_all()
