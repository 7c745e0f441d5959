"""Hook implementations of omnitron-provider-swarm (the ``swarm`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from .provider import SwarmProvider  # light: its methods are imported when the first provider is made

    return [SwarmProvider]
