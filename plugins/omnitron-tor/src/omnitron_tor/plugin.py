"""Hook implementations of omnitron-tor (the ``tor`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("tor", "omnitron_tor.preset:TorPreset")]


@hookimpl
def omnitron_add_health_probes():
    from omnitron.api import LazyClass

    return [LazyClass("tor", "omnitron_tor.probe:TorProbe")]


@hookimpl
def omnitron_add_template_functions():
    from omnitron.api import LazyClass

    return [
        LazyClass("onion", "omnitron_tor.functions:OnionFunction"),
        LazyClass("tor_target", "omnitron_tor.functions:TargetFunction"),
        LazyClass("tor_hashed_password", "omnitron_tor.functions:HashedPasswordFunction"),
    ]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="tor", target="omnitron_tor.cli:tor", group="infra", help="List the hidden services: hostname, virtual port, target.")]
