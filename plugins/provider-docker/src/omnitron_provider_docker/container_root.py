"""A running container's files as seen from this machine: ``/proc/<pid>/root`` of its first process.

Only where the engine runs here and this process may look into other processes' roots (root);
the container is recognised by its ID in that process's cgroup, so a pid the engine reports from another
machine or namespace is never taken for it. Paths are resolved by hand inside that root: an absolute
symlink in the container (``/var/run -> /run``) points into the container, never to this machine's own
``/run``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_LINKS = 40
"""Symlinks followed in one path before giving up (as the kernel's ``ELOOP``)."""


def root_of(pid: int, container_id: str) -> Path | None:
    """``/proc/<pid>/root`` when ``pid`` runs here, in the container ``container_id``, and its root can be read."""
    if pid <= 0 or os.geteuid() != 0:
        return None
    try:
        if container_id not in Path(f"/proc/{pid}/cgroup").read_text():
            return None
        root = Path(f"/proc/{pid}/root")
        os.stat(root)
    except OSError:
        return None
    return root


def resolve_in(root: Path, path: str) -> Path:
    """``path`` of the container whose root is ``root``, as a path here, every symlink followed inside ``root``.

    :raises OSError: a component is missing (``FileNotFoundError``) or too many symlinks (``ELOOP``).
    """
    parts = [p for p in PurePosixPath(path).parts if p not in ("/", ".")]
    current, links = root, 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            links += 1
            if links > MAX_LINKS:
                raise OSError(errno.ELOOP, f"too many symlinks in {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = root
            parts = [p for p in PurePosixPath(target).parts if p not in ("/", ".")] + parts
            continue
        if not candidate.exists():
            raise FileNotFoundError(errno.ENOENT, f"no {path} in the container", str(candidate))
        current = candidate
    return current


def resolver(root: Path) -> Callable[[str], Path]:
    """:func:`resolve_in` for one container."""
    return lambda path: resolve_in(root, path)
