"""The per-user cache: artefacts worth keeping between commands and projects (initialised templates, replayable
output), never secrets, each part in its own directory."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(part: str) -> Path | None:
    """``$OMNITRON_CACHE_DIR/<part>`` (else ``$XDG_CACHE_HOME/omnitron/<part>``, else ``~/.cache/omnitron/<part>``);
    ``None`` when there is no home directory to put it in. Not created here."""
    explicit = os.environ.get("OMNITRON_CACHE_DIR")
    if explicit:
        return Path(explicit) / part
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "omnitron" / part
    try:
        return Path.home() / ".cache" / "omnitron" / part
    except (RuntimeError, KeyError):
        return None
