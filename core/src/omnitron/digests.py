"""Digests of files and of the environment that shape a plan (standard library only).

The planner hashes bind-mounted files with :func:`digest_path`; the daemon
reports the files it planned from with their digests, and the command line
re-digests just those files (cheap) before it trusts the daemon's answer.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from collections.abc import Mapping

IGNORED_ENV = frozenset({"OMNITRON_PROJECT", "OMNITRON_DAEMON", "OMNITRON_PLAN_CACHE", "OMNITRON_TEST_SESSION", "OMNITRON_TEST_IMPORTS_TO"})
"""``OMNITRON_*`` variables that do not change what a command does to a project."""
PLAN_ENV = ("DOCKER_HOST", "HOME", "XDG_CONFIG_HOME")
"""Other variables a plan, its providers or its secrets depend on."""


def digest_path(path: Path) -> str:
    """sha256 over a file, or over every file below a directory (names and contents); ``missing`` when neither."""
    h = hashlib.sha256()
    if path.is_file():
        h.update(path.read_bytes())
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(file.relative_to(path)).encode() + b"\0")
            h.update(file.read_bytes())
    else:
        return "missing"
    return h.hexdigest()[:16]


def digest_files(paths: list[str]) -> dict[str, str]:
    """Path -> :func:`digest_path` of each."""
    return {p: digest_path(Path(p)) for p in paths}


def env_fingerprint(environ: Mapping[str, str] | None = None) -> str:
    """A digest of the environment variables that change a plan, its secrets or its providers (their values never leave it)."""
    environ = os.environ if environ is None else environ
    keys = sorted(k for k in environ if (k.startswith("OMNITRON_") and k not in IGNORED_ENV) or k in PLAN_ENV)
    h = hashlib.sha256()
    for key in keys:
        h.update(f"{key}={environ[key]}\0".encode())
    return h.hexdigest()[:24]


def env_digest(names: list[str] | None, environ: Mapping[str, str] | None = None) -> str:
    """One digest of the named variables' values (absent ones included); ``None`` names every variable. Values never leave it."""
    environ = os.environ if environ is None else environ
    keys = sorted(environ) if names is None else sorted(names)
    h = hashlib.sha256()
    for key in keys:
        value = environ.get(key)
        h.update(f"{key}\0{'-' if value is None else '=' + value}\0".encode())
    return h.hexdigest()[:24]
