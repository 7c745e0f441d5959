"""Writing the gateway's files: each file replaced atomically (a new inode under the same name), only when it changed.

Replacing files inside a directory, never the directory itself, is what a
bind mount of that directory sees at once (a mount of a single file, or of a
directory that was renamed away, keeps showing the old one).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path


def write_files(root: Path, files: Mapping[str, str | bytes], *, prune: bool = True) -> bool:
    """Make ``root`` hold ``files`` (relative path -> content); with ``prune``, remove other files. Whether anything changed."""
    changed = False
    root.mkdir(parents=True, exist_ok=True)
    _readable(root)
    for rel, content in sorted(files.items()):
        data = content.encode() if isinstance(content, str) else content
        path = root / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _readable(path.parent)
        tmp = path.with_name(f".{path.name}.omnitron-tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        changed = True
    if prune:
        wanted = {root / rel for rel in files}
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
                changed = True
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def _readable(directory: Path) -> None:
    """Mode 0755 (nginx's unprivileged user reads it), set only when it differs: a needless ``chmod`` is an event to
    whoever watches the directory."""
    if directory.stat().st_mode & 0o7777 != 0o755:
        os.chmod(directory, 0o755)


def read_tree(root: Path | None) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> content); ``{}`` when there is none."""
    if root is None or not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tree_digest(tree: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel, data in sorted(tree.items()):
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def remove_tree(root: Path) -> None:
    if root.is_dir():
        shutil.rmtree(root)
