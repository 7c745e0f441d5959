"""Running ``omnitron.config.py``, which is code: with its output on stderr, a time limit, and every failure as one line.

- What the config prints goes to stderr (Python's ``sys.stdout`` and file
  descriptor 1 alike, for the time it runs), so ``--json`` output stays
  valid; a config that closes ``sys.stdout`` closes nothing of ours.
- Evaluation has a time limit: ``OMNITRON_CONFIG_TIMEOUT`` seconds (default
  10; ``0`` for none). In the main thread a ``SIGALRM`` timer (no thread, no
  subprocess: it costs microseconds) raises :class:`ConfigTimeout` where the
  config runs; in another thread a timer thread raises it there. A config
  that swallows it (``except BaseException: pass`` in a loop) is ended two
  seconds later with the same one line and exit code 2.
- Any exception, ``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit``
  included, becomes one :class:`~omnitron.errors.ConfigError` naming the file
  and the line.

Code that loops inside a C extension without returning to the interpreter
cannot be interrupted from Python; nothing else escapes the limit.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError

TIMEOUT_ENV = "OMNITRON_CONFIG_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
GRACE = 2.0
"""Seconds a config that swallowed the timeout gets before the process ends."""

T = TypeVar("T")


class ConfigTimeout(BaseException):
    """Raised inside the config when its time is up (a BaseException: ``except Exception`` does not stop it)."""


def time_limit(environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    """``OMNITRON_CONFIG_TIMEOUT`` in seconds (``0``: no limit)."""
    raw = environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r}: expected a number of seconds (0 for no limit)") from None
    if value < 0 or value != value:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r}: expected a number of seconds (0 for no limit)")
    return value


def evaluate(path: Path, run: Callable[[], T], *, shown: str, limit: float | None = None) -> T:
    """``run()`` (which executes the config at ``path``) with its output on stderr and the time limit; one line on any failure."""
    limit = time_limit() if limit is None else limit
    try:
        with _output_to_stderr(), _deadline(limit, shown):
            return run()
    except ConfigError:
        raise
    except ConfigTimeout:
        raise ConfigError(_timeout_message(limit), file=shown) from None
    except SystemExit as exc:
        code = exc.code
        what = f"exit({code!r})" if code is not None else "exit()"
        raise ConfigError(f"{_where(exc, path)}the config called {what}", file=shown) from None
    except KeyboardInterrupt as exc:
        raise ConfigError(f"{_where(exc, path)}interrupted (KeyboardInterrupt)", file=shown) from None
    except BaseException as exc:  # noqa: BLE001 - the config is code: anything it raises is the user's to see, in one line
        raise ConfigError(f"{_where(exc, path)}{describe(exc)}", file=shown) from None


def _timeout_message(limit: float) -> str:
    return f"evaluation took longer than {limit:g}s (an endless loop?); {TIMEOUT_ENV} sets the limit in seconds"


def describe(exc: BaseException) -> str:
    """``TypeName: message``, safe against an exception whose ``str()`` itself fails."""
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = "(its message cannot be shown)"
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _where(exc: BaseException, path: Path) -> str:
    """``line N: `` of the deepest frame in the config file, or of a syntax error in it."""
    if isinstance(exc, SyntaxError) and exc.lineno and (exc.filename in (None, str(path), "<string>")):
        return f"line {exc.lineno}: "
    try:
        frames = traceback.extract_tb(exc.__traceback__)
    except BaseException:  # noqa: BLE001
        return ""
    line = next((f.lineno for f in reversed(frames) if f.filename == str(path)), None)
    return f"line {line}: " if line else ""


class _StderrProxy(io.TextIOBase):
    """What ``sys.stdout`` is while the config runs: writes go to stderr; ``close()`` closes nothing."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        target = self._target
        if target is None:
            return len(text)
        try:
            return target.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._target.flush()

    def close(self) -> None:
        return None

    @property
    def closed(self) -> bool:
        return False


@contextlib.contextmanager
def _output_to_stderr() -> Iterator[None]:
    """``sys.stdout`` and file descriptor 1 point at stderr while the block runs (child processes inherit that)."""
    saved_stdout = sys.stdout
    with contextlib.suppress(OSError, ValueError, AttributeError):
        saved_stdout.flush()
    saved_fd = None
    try:
        saved_fd = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no stdout or no stderr: nothing to move
        saved_fd = None
    sys.stdout = _StderrProxy(sys.stderr)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        sys.stdout = saved_stdout
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


@contextlib.contextmanager
def _deadline(limit: float, shown: str) -> Iterator[None]:
    if limit <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm(limit, shown):
            yield
    else:
        with _async_raise_after(limit):
            yield


@contextlib.contextmanager
def _alarm(limit: float, shown: str) -> Iterator[None]:
    import signal
    import time

    deadline = time.monotonic() + limit

    def on_alarm(signum: int, frame: Any) -> None:
        if time.monotonic() >= deadline + GRACE:  # the config swallowed ConfigTimeout: end it here
            os.write(2, f"omnitron: {shown}: {_timeout_message(limit)}\n".encode())
            os._exit(2)
        raise ConfigTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # fires at the limit, then every half second until the config gives up (or GRACE ends it)
    signal.setitimer(signal.ITIMER_REAL, limit, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _async_raise_after(limit: float) -> Iterator[None]:
    """Outside the main thread: a timer thread raises :class:`ConfigTimeout` in this one."""
    import ctypes

    target = threading.get_ident()
    done = threading.Event()

    def fire() -> None:
        wait = limit
        while not done.wait(wait):  # at the limit, then every half second until the config gives up
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(ConfigTimeout))
            wait = 0.5

    timer = threading.Thread(target=fire, name="omnitron-config-timeout", daemon=True)
    timer.start()
    try:
        yield
    finally:
        done.set()
