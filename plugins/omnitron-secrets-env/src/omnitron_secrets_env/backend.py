"""The ``env`` secret backend: values come from ``OMNITRON_SECRET_<NAME>`` variables.

``NAME`` is the store key upper-cased, every character other than an ASCII
letter or digit written as ``_``: the key ``myapp/dev/db/password`` is read from
``OMNITRON_SECRET_MYAPP_DEV_DB_PASSWORD``. Keys differing only in case or
punctuation share a variable. An empty variable counts as not set.
``OMNITRON_SECRET_KEY`` is the encrypted file store's key, never a secret of
this backend: the key ``key`` is refused. The backend
is read-only: whatever sets the environment (a CI system, an orchestrator, a
secret manager's agent) owns the values.
"""

from __future__ import annotations

import os
import re

from omnitron.api import SecretBackend, SecretError

PREFIX = "OMNITRON_SECRET_"
RESERVED = "OMNITRON_SECRET_KEY"
_OTHER = re.compile(r"[^A-Za-z0-9]")


def variable_name(key: str) -> str:
    """The environment variable holding ``key``."""
    name = PREFIX + _OTHER.sub("_", key).upper()
    if name == RESERVED:
        raise SecretError(f"secret key {key!r} would be read from {RESERVED}, which holds omnitron's store key; use another name")
    return name


class EnvSecretBackend(SecretBackend):
    """Reads secrets from the environment; never writes."""

    name = "env"
    writable = False

    def get(self, key: str) -> str | None:
        return os.environ.get(variable_name(key)) or None

    def set(self, key: str, value: str) -> None:
        raise SecretError(f"the 'env' secret backend is read-only: export {variable_name(key)} instead")

    def delete(self, key: str) -> bool:
        raise SecretError(f"the 'env' secret backend is read-only: unset {variable_name(key)} instead")

    def list(self) -> list[str]:
        """The set variables' names without the prefix, lower-cased (each reads back the same variable)."""
        return sorted(k[len(PREFIX) :].lower() for k, v in os.environ.items() if k.startswith(PREFIX) and k not in (PREFIX, RESERVED) and v)

    def missing_hint(self, key: str) -> str:
        return f"export {variable_name(key)}"
