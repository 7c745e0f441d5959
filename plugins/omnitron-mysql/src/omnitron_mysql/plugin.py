"""Hook implementations of omnitron-mysql (the ``mysql`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from .preset import MariadbPreset, MysqlPreset

    return [MysqlPreset, MariadbPreset]


@hookimpl
def omnitron_add_health_probes():
    from .probe import MysqlProbe

    return [MysqlProbe]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="mysql", target="omnitron_mysql.cli:mysql", group="infra", help="Open a MySQL client on the managed MySQL or MariaDB.")]
