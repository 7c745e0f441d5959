"""What ``omnitron --help`` and ``omnitron plugins list`` printed, kept and replayed while nothing they read has changed.

Their output depends only on what is installed, yet making it means importing
cyclopts, rich, pluggy and every plugin. The first run is recorded; later
runs replay it after checking, in a few milliseconds, that everything it read
is as it was:

- the command line, the interpreter and its import path (``sys.path``);
- the installed distributions: every ``sys.path`` directory's modification
  time and its ``*.dist-info`` / ``*.egg-info`` entries with theirs and their
  ``METADATA`` and ``entry_points.txt`` files' (an install, an upgrade, an
  uninstall or an edited entry point changes them);
- every module the run imported, by its file's modification time and size
  (editing a plugin of an editable install shows at once);
- every environment variable the run read (``OMNITRON_PLUGINS``,
  ``COLUMNS``, ``NO_COLOR``...), by value, absent ones included: reads are
  recorded while the command runs;
- which standard streams are terminals, their size and encoding.

A run that failed, wrote to stderr (a plugin that failed to load warns
there), wrote to ``sys.stdout.buffer``, listed the whole environment, or
during which a ``sys.path`` directory changed (an install meanwhile, or the
first ``__pycache__`` written there) is not kept. Only the ``omnitron`` script's own command line is cached (an
in-process :func:`omnitron.cli.main` call never is), never while a test has
installed its own plugin manager. ``OMNITRON_CLI_CACHE=off`` turns it off;
entries live in ``$OMNITRON_CACHE_DIR/cli`` (default
``$XDG_CACHE_HOME/omnitron/cli`` or ``~/.cache/omnitron/cli``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..digests import env_digest
from ..run_inputs import EnvReads, distributions
from ..user_cache import user_cache_dir

_HELP = ("--help", "-h")
_KEPT = 64
"""Entries kept (one per command line, terminal size, ...): the oldest go first."""
_FORMAT = 1
_METADATA = ("", "METADATA", "PKG-INFO", "entry_points.txt")
"""What of a distribution's metadata directory is compared: itself (its files added or removed), its name and version, its entry points."""


def cacheable(argv: list[str]) -> bool:
    """A help request (words then ``--help``), the bare ``omnitron``, or ``plugins list [--json]``."""
    if argv in (["plugins", "list"], ["plugins", "list", "--json"]):
        return True
    return not argv or (argv[-1] in _HELP and not any(a.startswith("-") for a in argv[:-1]))


def directory() -> Path | None:
    """Where entries live; ``None`` when ``OMNITRON_CLI_CACHE`` turns the cache off."""
    if os.environ.get("OMNITRON_CLI_CACHE", "").strip().lower() in ("0", "off", "no", "false"):
        return None
    return user_cache_dir("cli")


def answer(argv: list[str], run: Callable[[], int]) -> int:
    """``run()``'s exit code: replayed from an entry still valid, else run (and recorded when it can be)."""
    where = directory()
    if where is None:
        return run()
    key = _key(argv)
    entry_path = where / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    installed = _installed()
    entry = _read(entry_path, key, installed)
    if entry is not None:
        try:
            sys.stdout.write(entry["stdout"])
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (`| head`), as the command itself would answer
            return 141
        return int(entry["code"])
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    reads = EnvReads()
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        with reads:
            code = run()
    finally:
        sys.stdout, sys.stderr = out.stream, err.stream
    kept = code == 0 and not err.parts and not out.bypassed and not reads.listed
    if kept and _installed() == installed:  # else something was installed meanwhile (or a first __pycache__ made): next time
        _write(entry_path, {"format": _FORMAT, "key": key, "installed": installed, "env": sorted(reads.names), "envDigest": env_digest(sorted(reads.names)), "files": _module_files(), "stdout": "".join(out.parts), "code": code})
    return code


def _key(argv: list[str]) -> str:
    """What names an entry: the command line, the interpreter and its import path, the terminal."""
    return json.dumps({"argv": argv, "python": [sys.executable, sys.version, sys.prefix], "path": _path(), "streams": _streams()})


def _path() -> list[str]:
    return [os.path.abspath(p or os.curdir) for p in sys.path]


def _installed() -> list[Any]:
    """Every ``sys.path`` entry's modification time and its distributions' metadata directories with theirs."""
    return [[p, *_dists(p)] for p in _path()]


def _dists(path: str) -> list[Any]:
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return [None]
    found = distributions(path) or []
    return [mtime, [[name, *(_stamp(os.path.join(where, f)) for f in _METADATA)] for name, where in found]]


def _stamp(path: str) -> list[int] | None:
    """A file's (or directory's) modification time and size; ``None`` when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _streams() -> list[Any]:
    streams: list[Any] = []
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        try:
            tty = os.isatty(fd)
        except OSError:
            tty = False
        try:
            size = tuple(os.get_terminal_size(fd)) if tty else None
        except OSError:
            size = None
        streams.append([tty, size, getattr(stream, "encoding", None)])
    return streams


def _module_files() -> list[list[Any]]:
    files: list[list[Any]] = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        files.append([path, st.st_mtime_ns, st.st_size])
    files.sort()
    return files


def _read(path: Path, key: str, installed: list[Any]) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != _FORMAT or entry.get("key") != key or entry.get("installed") != installed:
        return None
    if entry.get("envDigest") != env_digest(list(entry.get("env", []))):
        return None
    for file, mtime, size in entry.get("files", []):
        try:
            st = os.stat(file)
        except OSError:
            return None
        if st.st_mtime_ns != mtime or st.st_size != size:
            return None
    return entry


def _write(path: Path, entry: dict[str, Any]) -> None:
    """Atomically (a reader sees the old entry or the new one); a cache that cannot be written is no error."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent)
    except OSError:
        pass


def _prune(where: Path) -> None:
    entries = sorted(where.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-_KEPT]:
        old.unlink(missing_ok=True)


class _Tee:
    """A standard stream that keeps a copy of what is written to it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: list[str] = []
        self.bypassed = False

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    @property
    def buffer(self) -> Any:
        self.bypassed = True  # bytes written there are not seen: such a run is not kept
        return self.stream.buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
