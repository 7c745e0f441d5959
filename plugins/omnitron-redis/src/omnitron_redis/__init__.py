"""Redis preset for omnitron.

Kept import-light: the CLI loads this package to find plugin commands, so
the preset's models are imported only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RedisConfig", "RedisPreset"]


def __getattr__(name: str) -> Any:
    if name == "RedisConfig":
        from .config import RedisConfig

        return RedisConfig
    if name == "RedisPreset":
        from .preset import RedisPreset

        return RedisPreset
    raise AttributeError(name)
