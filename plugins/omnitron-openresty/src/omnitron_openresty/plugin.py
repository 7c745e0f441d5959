"""Hook implementations of omnitron-openresty (the ``openresty`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("openresty", "omnitron_openresty.preset:OpenrestyPreset")]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="gateway", target="omnitron_openresty.cli:gateway", group="infra", help="show: the gateway's generated config (upstream maps, Lua map), as infra up writes it.")]
