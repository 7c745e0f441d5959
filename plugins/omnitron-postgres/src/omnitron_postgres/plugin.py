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


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="psql", target="omnitron_postgres.cli:psql", group="infra", help="Open psql against the managed Postgres.")]
