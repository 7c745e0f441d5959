"""Hook implementations of omnitron-export (the ``export`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl
from omnitron.api import CommandSpec


@hookimpl
def omnitron_add_commands():
    return [CommandSpec("export", "omnitron_export.cli:export_cmd", group="infra", help="Write the stack as Kubernetes manifests or a compose file (secrets as references)")]
