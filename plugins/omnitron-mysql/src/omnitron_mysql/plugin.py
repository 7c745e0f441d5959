"""Hook implementations of omnitron-mysql (the ``mysql`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("mysql", "omnitron_mysql.preset:MysqlPreset"), LazyClass("mariadb", "omnitron_mysql.preset:MariadbPreset")]


@hookimpl
def omnitron_add_health_probes():
    from omnitron.api import LazyClass

    return [LazyClass("mysql", "omnitron_mysql.probe:MysqlProbe")]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="mysql", target="omnitron_mysql.cli:mysql", group="infra", help="Open a MySQL client on the managed MySQL or MariaDB.")]
