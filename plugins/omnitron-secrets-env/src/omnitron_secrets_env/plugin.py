"""Hook implementations of omnitron-secrets-env (the ``secrets-env`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_secret_backends():
    from .backend import EnvSecretBackend

    return [EnvSecretBackend]
