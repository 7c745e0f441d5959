"""Hook implementations of omnitron-tor (the ``tor`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from .preset import TorPreset

    return [TorPreset]


@hookimpl
def omnitron_add_health_probes():
    from .probe import TorProbe

    return [TorProbe]


@hookimpl
def omnitron_add_template_functions():
    from .functions import HashedPasswordFunction, OnionFunction, TargetFunction

    return [OnionFunction, TargetFunction, HashedPasswordFunction]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="tor", target="omnitron_tor.cli:tor", group="infra", help="List the hidden services: hostname, virtual port, target.")]
