"""Where a project keeps what omnitron writes on disk: pure path arithmetic, no I/O.

``<project>/.omnitron/`` holds the state database and the lock; each stack has
``stacks/<stack>/`` (providers keep data and logs there), and each service a
files directory ``stacks/<stack>/files/<service>`` for what its preset
generates for it (``/`` of app-scoped names written as ``+``).
"""

from __future__ import annotations

from pathlib import Path

STATE_DIRNAME = ".omnitron"


def state_dir(root: Path) -> Path:
    """``<project>/.omnitron``: the state database, the lock, every stack's directory."""
    return root / STATE_DIRNAME


def stack_dir(root: Path, stack: str) -> Path:
    """Where providers keep a stack's data and logs."""
    return state_dir(root) / "stacks" / stack


def files_root(root: Path, stack: str) -> Path:
    """The parent of every service's files directory in ``stack``."""
    return stack_dir(root, stack) / "files"


def files_dir(root: Path, stack: str, service: str) -> Path:
    """The directory of files a preset generates for ``service`` (see :attr:`~omnitron.presets.ExpandContext.files_dir`)."""
    return files_root(root, stack) / service.replace("/", "+")
