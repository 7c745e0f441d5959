"""Tor preset for omnitron.

Kept import-light: the CLI loads this package to find plugin commands, so
the preset's models are imported only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TorConfig", "TorPreset"]


def __getattr__(name: str) -> Any:
    if name == "TorConfig":
        from .config import TorConfig

        return TorConfig
    if name == "TorPreset":
        from .preset import TorPreset

        return TorPreset
    raise AttributeError(name)
