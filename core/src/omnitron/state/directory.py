"""The project's state directory (``.omnitron/``): created on first use, with a ``.gitignore`` of its own."""

from __future__ import annotations

from pathlib import Path

GITIGNORE = "# written by omnitron: nothing in this directory belongs in version control\n*\n"


def make_state_dir(state_dir: Path) -> Path:
    """Create ``state_dir`` (and its parents) if missing, with a ``.gitignore`` holding ``*``, as ``.venv`` has."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        try:
            ignore.write_text(GITIGNORE)
        except OSError:  # a read-only checkout: the state still works
            pass
    return state_dir
