"""S3 storage preset for omnitron (``minio``).

Kept import-light: the CLI loads this package to find plugin commands, so
the preset's models are imported only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MinioConfig", "MinioPreset"]


def __getattr__(name: str) -> Any:
    if name == "MinioConfig":
        from .config import MinioConfig

        return MinioConfig
    if name == "MinioPreset":
        from .preset import MinioPreset

        return MinioPreset
    raise AttributeError(name)
