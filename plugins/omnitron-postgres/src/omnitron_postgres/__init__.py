"""PostgreSQL preset for omnitron."""

from .preset import PostgresConfig, PostgresPreset

__all__ = ["PostgresConfig", "PostgresPreset"]
