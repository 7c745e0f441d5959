"""The secret store as the fast paths read it: through the light backend the cache recorded (standard library,
and ``cryptography`` once a secret is read)."""

from __future__ import annotations

from pathlib import Path

from ..daemon.paths import STATE_DIRNAME


def store_values(ref: str | None, project: str, root: Path, keys: set[str]) -> dict[str, str]:
    """Key -> value of each of ``keys`` in the project's secret store, read through its light backend ``ref``
    (``module:Class``, as the cache recorded it); :class:`LookupError` when it cannot be read that way or a key is not set."""
    from importlib import import_module

    from ..secrets.base import SecretBackend, SecretContext

    if not ref:
        raise LookupError("the secret store cannot be read here")
    module, _, name = ref.partition(":")
    cls = getattr(import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, SecretBackend) and cls.light):
        raise LookupError(ref)
    backend = cls(SecretContext(project=project, project_dir=root, state_dir=root / STATE_DIRNAME))
    values: dict[str, str] = {}
    for key in sorted(keys):
        value = backend.get(key)
        if value is None:
            raise LookupError(key)
        values[key] = value
    return values
