"""Redis preset for omnitron."""

from .preset import RedisConfig, RedisPreset

__all__ = ["RedisConfig", "RedisPreset"]
