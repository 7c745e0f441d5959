"""Hook implementations of omnitron-provider-process (the ``process`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from omnitron.lazy import LazyClass

    # imported on first use: commands that do not touch this provider stay fast
    return [LazyClass("process", "omnitron_provider_process.provider:ProcessProvider")]
