"""Hook implementations of omnitron-redis (the ``redis`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from .preset import RedisPreset

    return [RedisPreset]


@hookimpl
def omnitron_add_health_probes():
    from .probe import RedisProbe

    return [RedisProbe]
