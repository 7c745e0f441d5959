"""``define_ecosystem``: what ``omnitron.config.py`` calls. Kept import-light on purpose."""

from __future__ import annotations

import contextvars

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any


class EcosystemDeclaration(dict):
    """What :func:`define_ecosystem` returns: the raw declaration, validated on load."""


DECLARED: contextvars.ContextVar[list[EcosystemDeclaration] | None] = contextvars.ContextVar("omnitron_declared", default=None)
"""While the loader runs a config: every declaration it made, so a bare ``define_ecosystem(...)`` call (the
twin of ``export default defineEcosystem(...)``) declares the ecosystem without being assigned."""


def define_ecosystem(config: dict[str, Any] | None = None, /, **kwargs: Any) -> EcosystemDeclaration:
    """Declare the ecosystem in ``omnitron.config.py`` (the twin of ``defineEcosystem``).

    Accepts a dict, keyword arguments, or both (keywords win). Validation
    happens when omnitron loads the file, so errors name the file and field.
    """
    declaration = EcosystemDeclaration({**(config or {}), **kwargs})
    made = DECLARED.get()
    if made is not None:
        made.append(declaration)
    return declaration
