"""Template functions of the redis preset.

- ``${redis_quoted_secret:SECRET}``: one of the service's secrets as a quoted
  Redis config value (the ``requirepass`` line of the config fed on stdin), so
  a password holding quotes, backslashes or spaces arrives intact.
"""

from __future__ import annotations

from omnitron.api import SecretFunction, TemplateContext

from .config import quote


class QuotedSecretFunction(SecretFunction):
    name = "redis_quoted_secret"

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        return quote(super().render(arg, ctx))
