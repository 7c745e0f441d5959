"""Where the plan cache lives and how it is read and written (standard library only).

``<project>/.omnitron/plan-cache/<stack>.json``, one file per stack, mode
0600, replaced atomically (written under a temporary name, renamed); and
``default.json``, which names the stack a command without ``--stack`` used
last. A file that does not parse, or of another format or version, is
ignored (the full path writes a new one).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

FORMAT = "omnitron-plan-cache"
VERSION = 1
DIRNAME = "plan-cache"
DEFAULT = "default.json"


def cache_dir(state_dir: Path) -> Path:
    return state_dir / DIRNAME


def cache_file(state_dir: Path, stack: str) -> Path:
    return cache_dir(state_dir) / f"{stack}.json"


def read(state_dir: Path, stack: str | None) -> dict[str, Any] | None:
    """The cache of ``stack`` (``None``: of the stack a command without ``--stack`` used last), if there is a usable one."""
    if stack is None:
        pointer = _load(cache_dir(state_dir) / DEFAULT)
        stack = pointer.get("stack") if pointer else None
        if not isinstance(stack, str) or not stack or "/" in stack or stack.startswith("."):
            return None
    doc = _load(cache_file(state_dir, stack))
    if doc is None or doc.get("format") != FORMAT or doc.get("version") != VERSION or doc.get("stack") != stack:
        return None
    return doc


def _load(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(state_dir: Path, doc: dict[str, Any], *, default: bool) -> None:
    """Replace the cache of ``doc["stack"]``; ``default``: the command named no stack (``default.json`` points at it)."""
    from ..secrets._files import atomic_write
    from ..state.directory import make_state_dir

    make_state_dir(state_dir)
    directory = cache_dir(state_dir)
    directory.mkdir(mode=0o700, exist_ok=True)
    atomic_write(cache_file(state_dir, doc["stack"]), (json.dumps({"format": FORMAT, "version": VERSION, **doc}, indent=1) + "\n").encode())
    if default:
        atomic_write(directory / DEFAULT, (json.dumps({"stack": doc["stack"]}) + "\n").encode())


def drop(state_dir: Path, stack: str) -> None:
    """Remove the cache of ``stack`` (a full command found it no longer holds)."""
    try:
        os.unlink(cache_file(state_dir, stack))
    except OSError:
        pass
