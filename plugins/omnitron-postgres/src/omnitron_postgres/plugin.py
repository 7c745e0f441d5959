"""Hook implementations of omnitron-postgres (the ``postgres`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from .preset import PostgresPreset

    return [PostgresPreset]


@hookimpl
def omnitron_add_health_probes():
    from .probe import PostgresProbe

    return [PostgresProbe]
