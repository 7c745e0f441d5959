"""Hook implementations of omnitron-provider-process (the ``process`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from .provider import ProcessProvider  # light: its methods are imported when the first provider is made

    return [ProcessProvider]
