"""Credentials omnitron generates on first provision (presets' ``credentials``, and apps' own from ``AppBinding.credentials``)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..errors import SecretError
from .base import SecretBackend

if TYPE_CHECKING:
    from ..plan import GeneratedSecret, Plan


def generate_value(spec: GeneratedSecret) -> str:
    """A fresh random value of ``spec.length`` characters from ``spec.alphabet`` (``url-safe`` or ``hex``)."""
    if spec.alphabet == "url-safe":
        return secrets.token_urlsafe(spec.length)[: spec.length]
    if spec.alphabet == "hex":
        return secrets.token_hex((spec.length + 1) // 2)[: spec.length]
    raise SecretError(f"generated secret {spec.key!r}: unknown alphabet {spec.alphabet!r} (url-safe or hex)")


def ensure_generated(backend: SecretBackend, plan: Plan) -> list[str]:
    """Store a value for every generated credential of ``plan`` that has none yet.

    Existing values are kept, so later runs reuse them.

    :returns: the keys created now, in plan order.
    """
    created: list[str] = []
    owners = [(f"service {svc.name}", svc.generated) for svc in plan.services]
    owners += [(f"app {app.name}", app.generated) for app in plan.apps.values()]
    for owner, specs in owners:
        for spec in specs:
            if spec.key in created or backend.get(spec.key) is not None:
                continue
            value = generate_value(spec)
            try:
                backend.set(spec.key, value)
            except SecretError as exc:
                raise SecretError(f"{owner}: cannot store generated credential {spec.key!r}: {exc}") from None
            created.append(spec.key)
    return created
