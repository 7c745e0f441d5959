"""Hook implementations of omnitron-postgres (the ``postgres`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("postgres", "omnitron_postgres.preset:PostgresPreset")]


@hookimpl
def omnitron_add_health_probes():
    from omnitron.api import LazyClass

    return [LazyClass("postgres", "omnitron_postgres.probe:PostgresProbe")]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="psql", target="omnitron_postgres.cli:psql", group="infra", help="Open psql against the managed Postgres.")]
