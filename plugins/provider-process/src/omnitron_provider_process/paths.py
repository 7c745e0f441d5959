"""Where a service's data, runtime files and log live.

Under the stack's state directory (``<project>/.omnitron/stacks/<stack>``):
``data/<service>``, ``run/<service>`` and ``logs/<service>.log``, with ``/`` of
app-scoped names (``web/postgres``) written as ``+`` (``web+postgres``), a
character service names cannot hold, so two services never share a directory.

Two exceptions, both recorded in the state store so later commands find them:

- when omnitron runs as root and the unprivileged service account cannot
  reach the project directory (a project under ``/root``), data and runtime
  files live under ``$OMNITRON_PROCESS_DATA_ROOT`` (``/var/lib/omnitron``) in
  a directory named after the project and a digest of its state directory;
- a runtime directory whose path is too long for a Unix socket moves to
  ``/tmp/omnitron-<uid>/<digest>``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from omnitron.api import ProvisionError

from .accounts import Account

MAX_RUN_DIR = 80
"""Longest runtime directory kept in place: a Unix socket path (``<dir>/.s.PGSQL.65535.lock``) holds at most 107 bytes."""
DEFAULT_DATA_ROOT = "/var/lib/omnitron"


def safe_name(service: str) -> str:
    """A directory name for ``service``: ``web/postgres`` -> ``web+postgres``."""
    return service.replace("/", "+")


def _digest(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


@dataclass(frozen=True)
class ServicePaths:
    data_dir: Path
    run_dir: Path
    log_path: Path


def relocated_base(state_dir: Path, project: str) -> Path:
    """Where data goes when the service account cannot reach ``state_dir``."""
    root = Path(os.environ.get("OMNITRON_PROCESS_DATA_ROOT") or DEFAULT_DATA_ROOT)
    return root / f"{safe_name(project)}-{_digest(str(state_dir.resolve()))}"


def data_base(state_dir: Path, project: str, account: Account | None) -> Path:
    """The directory holding ``data/`` and ``run/`` for this stack."""
    if account is None or account.can_traverse(state_dir):
        return state_dir
    return relocated_base(state_dir, project)


def service_paths(state_dir: Path, project: str, service: str, account: Account | None) -> ServicePaths:
    """Where ``service`` keeps its data, runtime files and log."""
    safe = safe_name(service)
    base = data_base(state_dir, project, account)
    return ServicePaths(data_dir=base / "data" / safe, run_dir=run_dir_in(base, safe), log_path=state_dir / "logs" / f"{safe}.log")


def run_dir_in(base: Path, safe: str) -> Path:
    """``<base>/run/<safe>``, or its short stand-in when that is too long for a socket path."""
    run_dir = base / "run" / safe
    if len(str(run_dir)) > MAX_RUN_DIR:
        run_dir = short_runtime_root() / _digest(str(run_dir.resolve()), 16)
    return run_dir


def all_places(state_dir: Path, project: str, service: str) -> list[ServicePaths]:
    """Every place ``service`` may have used, whoever it ran as."""
    safe = safe_name(service)
    return [
        ServicePaths(data_dir=base / "data" / safe, run_dir=run_dir_in(base, safe), log_path=state_dir / "logs" / f"{safe}.log")
        for base in (state_dir, relocated_base(state_dir, project))
    ]


def short_runtime_root() -> Path:
    """``/tmp/omnitron-<uid>``: short enough for socket paths, checked to be ours."""
    return Path("/tmp") / f"omnitron-{os.geteuid()}"


def make_dir(path: Path, *, mode: int = 0o755, owner: Account | None = None) -> None:
    """Create ``path`` (and parents, searchable) with ``mode``, owned by ``owner`` when given."""
    if not path.is_dir():
        if path.parent.parent == short_runtime_root() or path.parent == short_runtime_root():
            _check_short_root()
        missing = [p for p in reversed(path.parents) if not p.is_dir()]
        for parent in missing:
            parent.mkdir(exist_ok=True)
            os.chmod(parent, 0o755)
        path.mkdir(exist_ok=True)
    st = path.stat()
    if st.st_mode & 0o7777 != mode:
        os.chmod(path, mode)
    if owner is not None and (st.st_uid, st.st_gid) != (owner.uid, owner.gid):
        os.chown(path, owner.uid, owner.gid)


def _check_short_root() -> None:
    root = short_runtime_root()
    if not root.exists():
        root.mkdir(mode=0o711)
        os.chmod(root, 0o711)
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise ProvisionError(f"{root} is not a directory owned by this user and writable only by it: remove it and retry")


def cache_root() -> Path | None:
    """Per-user cache (``$OMNITRON_CACHE_DIR``, ``$XDG_CACHE_HOME/omnitron``, ``~/.cache/omnitron``); ``None`` when ``OMNITRON_PROCESS_CACHE=off``."""
    if os.environ.get("OMNITRON_PROCESS_CACHE", "").strip().lower() in ("0", "off", "no", "false"):
        return None
    explicit = os.environ.get("OMNITRON_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "omnitron" if xdg else Path.home() / ".cache" / "omnitron"


def remove_tree(path: Path) -> None:
    """Delete ``path`` (a file, a link or a directory tree), if it is there."""
    import shutil

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def remove_empty_base(base: Path) -> None:
    """Remove a stack's directory under the data root (:func:`relocated_base`) once nothing of any service is left in
    it: its ``data`` and ``run`` directories, then itself, each only while empty (a running service's files stay)."""
    for path in (base / "data", base / "run", base):
        try:
            path.rmdir()
        except OSError:  # not there, or something is still in it
            if path.exists():
                return
