"""omnitron-secrets-env: the read-only ``env`` secret backend."""

from .backend import PREFIX, EnvSecretBackend, variable_name

__all__ = ["PREFIX", "EnvSecretBackend", "variable_name"]
