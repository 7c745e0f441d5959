"""MySQL and MariaDB presets for omnitron.

Kept import-light: the CLI loads this package to find plugin commands, so
the presets' models are imported only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MariadbPreset", "MysqlConfig", "MysqlPreset"]


def __getattr__(name: str) -> Any:
    if name in ("MariadbPreset", "MysqlPreset"):
        from . import preset

        return getattr(preset, name)
    if name == "MysqlConfig":
        from . import config

        return config.MysqlConfig
    raise AttributeError(name)
