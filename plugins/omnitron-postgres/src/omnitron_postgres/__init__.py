"""PostgreSQL preset for omnitron.

Kept import-light: the CLI loads this package to find plugin commands, so
the preset's models are imported only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PostgresConfig", "PostgresPreset"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import preset

        return getattr(preset, name)
    raise AttributeError(name)
