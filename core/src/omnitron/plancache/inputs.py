"""What a plan depends on, recorded while the full path loads and plans, and checked again on the fast path.

Recording (:class:`Recorder`, full path only): while the config is evaluated
and the stack planned, an audit hook (:func:`sys.addaudithook`, installed once
and idle otherwise) notes every file opened for reading and every directory
listed, each digested when it is first opened or listed, before it is read
(a file saved while it is planned from is then keyed by what was there when
the read began, so the next check sees the save and plans again), and :class:`omnitron.run_inputs.EnvReads` notes every environment
variable read. Left out: the interpreter's and the environment's own files (below
``sys.prefix``/``sys.base_prefix``), code outside the project (installed
software: :func:`software_fingerprint` covers it, by the distributions' names and versions, so source edited
in place in an editable install is not seen), the project's state
directory (:func:`plan_state` covers what planning reads there), the user's
key directory, ``/proc``, ``/sys`` and ``/dev``. A module the config imports
from the project counts as its source file (a cached ``.pyc`` is opened
instead of the ``.py``, which is what a change touches).

Checking (both paths, standard library only): :func:`digest_files`,
:func:`env_digest`, :func:`software_fingerprint`, :func:`plan_state`.
"""

from __future__ import annotations

import hashlib
import os
import sys

from ..digests import env_digest
from ..run_inputs import EnvReads, distributions

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

_CODE = (".py", ".pyc", ".pyo", ".so", ".pyd", ".pth")
_SYSTEM = ("/proc/", "/sys/", "/dev/")
_active: list[Recorder] = []
_hooked = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    if event == "open":
        path, mode, flags = args[0], args[1], args[2]
        if isinstance(path, int) or path is None:
            return
        if mode is not None and any(c in str(mode) for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR):
            return
        _active[-1].saw_file(os.fsdecode(path))
    elif event in ("os.listdir", "os.scandir"):
        path = args[0] if args else "."
        if isinstance(path, (str, bytes, os.PathLike)):
            _active[-1].saw_dir(os.fsdecode(path))


class Recorder:
    """Notes what loading and planning read (``with Recorder(root, state_dir) as rec: ...``); see the module docstring."""

    def __init__(self, root: Path, excluded: list[Path] = ()) -> None:  # type: ignore[assignment]
        self.root = os.path.realpath(root)
        self.files: dict[str, str] = {}  # path -> digest when first opened
        self.dirs: dict[str, str] = {}  # directory -> digest of its names when first listed
        self._digesting = False
        self._env = EnvReads()
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        self._skip = tuple(os.path.join(os.path.realpath(p), "") for p in prefixes | {str(e) for e in excluded}) + _SYSTEM

    def __enter__(self) -> Recorder:
        global _hooked
        if not _hooked:
            sys.addaudithook(_hook)
            _hooked = True
        _active.append(self)
        self._env.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._env.__exit__(*exc)
        _active.remove(self)

    @property
    def env(self) -> set[str]:
        """The environment variables read."""
        return self._env.names

    @property
    def all_env(self) -> bool:
        """Whether the whole environment was listed."""
        return self._env.listed

    def _relevant(self, path: str) -> str | None:
        real = os.path.realpath(path)
        if real.startswith(self._skip):
            return None
        inside = real == self.root or real.startswith(self.root + os.sep)
        if real.endswith(_CODE):
            if not inside:
                return None  # installed software
            return source_of(real)
        return real

    def saw_file(self, path: str) -> None:
        if self._digesting:
            return  # the digest's own read
        self._note(self.files, self._relevant(path), digest_files)

    def saw_dir(self, path: str) -> None:
        if self._digesting:
            return
        real = os.path.realpath(path)
        if real in {os.path.realpath(p or ".") for p in sys.path} or os.path.isfile(os.path.join(real, "__init__.py")):
            return  # the import system looking for modules (on sys.path, in a package)
        self._note(self.dirs, self._relevant(real), digest_dirs)

    def _note(self, seen: dict[str, str], found: str | None, digest: Any) -> None:
        """Digest ``found`` into ``seen`` the first time it is seen (its own reads are not noted)."""
        if found is None or found in seen:
            return
        self._digesting = True
        try:
            seen.update(digest([found]))
        finally:
            self._digesting = False


def source_of(path: str) -> str:
    """The ``.py`` a cached ``__pycache__/NAME.TAG.pyc`` was compiled from (other paths unchanged)."""
    head, name = os.path.split(path)
    if name.endswith(".pyc") and os.path.basename(head) == "__pycache__":
        return os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py")
    return path


def digest_files(paths: list[str]) -> dict[str, str]:
    """Path -> digest of each (see :func:`omnitron.digests.digest_path`)."""
    from ..digests import digest_files as digest

    return digest(paths)


def digest_dirs(paths: list[str]) -> dict[str, str]:
    """Directory -> digest of the names in it (``missing`` when it is gone)."""
    out: dict[str, str] = {}
    for path in paths:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            out[path] = "missing"
            continue
        out[path] = hashlib.sha256("\0".join(names).encode()).hexdigest()[:16]
    return out


def software_fingerprint() -> str:
    """A digest of the interpreter, the environment, omnitron's version and every installed distribution (name and
    version, from the ``*.dist-info`` names on ``sys.path``)."""
    from .. import __version__

    found = {name for entry in sys.path for name, _ in distributions(entry) or ()}
    text = "\0".join([__version__, sys.version, sys.prefix, *sorted(found)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def plan_state(state_dir: Path, stack: str) -> str:
    """A digest of what planning reads from the state store for ``stack``: the provider ``auto`` chose at the last
    ``up``, the addresses providers recorded, and whether the stack is up (before the first ``up``, when there is
    no store, the same as after a ``down``: none, none, no)."""
    import json

    provider, addresses, kept = None, [], False
    if (state_dir / "state.db").exists():
        from ..state import StateStore
        from ..state.store import PROVIDER_SETTING

        with StateStore(state_dir) as state:
            provider = state.get_setting(stack, PROVIDER_SETTING)
            addresses = sorted((a.service, a.provider, a.spec_hash, a.host, sorted(a.ports.items()), a.reason) for a in state.addresses(stack).values())
            kept = state.is_kept(stack)
    return hashlib.sha256(json.dumps([provider, addresses, kept]).encode()).hexdigest()[:24]


def key_of(recorder: Recorder, project: Any, plan: Any) -> dict[str, Any]:
    """The cache key of ``plan`` as ``project`` just made it while ``recorder`` listened (the full path, right after planning).

    A file or directory the recorder saw keeps the digest taken before it was read; the plan's other
    files (an app config that is absent, a mounted file planning did not open) are digested now."""
    from ..digests import env_fingerprint

    names = None if recorder.all_env else sorted(recorder.env)
    unseen = sorted(p for p in set(project.planned_from(plan)) if p not in recorder.files and os.path.realpath(p) not in recorder.files)
    files = {**digest_files(unseen), **recorder.files}
    return {
        "files": dict(sorted(files.items())),
        "dirs": dict(sorted(recorder.dirs.items())),
        "envNames": names,
        "env": env_digest(names),
        "fingerprint": env_fingerprint(),
        "software": software_fingerprint(),
        "state": plan_state(project.state_dir, plan.stack),
    }


def key_holds(key: dict[str, Any], state_dir: Path, stack: str) -> bool:
    """Whether everything ``key`` was made from is as it was (cheapest comparisons first)."""
    from ..digests import env_fingerprint

    return (
        key.get("fingerprint") == env_fingerprint()
        and key.get("env") == env_digest(key.get("envNames"))
        and key.get("software") == software_fingerprint()
        and bool(key.get("files"))
        and digest_files(list(key["files"])) == key["files"]
        and digest_dirs(list(key.get("dirs") or {})) == (key.get("dirs") or {})
        and digest_files(list(key.get("secrets") or {})) == (key.get("secrets") or {})
        and plan_state(state_dir, stack) == key.get("state")
    )


def app_inputs(state: Any, stack: str, app: str) -> str:
    """A digest of what ``app``'s env is rendered from in the state store: its allocations, the services' facts, its allocated ports."""
    import json

    data = [state.app_allocations(stack, app), state.facts(stack), state.app_ports(stack).get(app) or {}]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]
