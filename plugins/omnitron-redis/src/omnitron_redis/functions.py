"""Template functions of the redis preset.

- ``${redis_quoted_secret:SECRET}``: one of the service's secrets as a quoted
  Redis config value (the ``requirepass`` line of the config fed on stdin), so
  a password holding quotes, backslashes or spaces arrives intact.
"""

from __future__ import annotations

from typing import ClassVar

from omnitron.api import TemplateContext, TemplateFunction

from .config import quote


class QuotedSecretFunction(TemplateFunction):
    name = "redis_quoted_secret"
    takes_argument: ClassVar[bool | None] = True
    secret: ClassVar[bool] = True

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        assert arg is not None
        if arg not in ctx.secrets:
            raise LookupError(f"unknown secret {arg!r}; declared in secrets: {', '.join(sorted(ctx.secrets)) or '(none)'}")
        return quote(ctx.secret(ctx.secrets[arg]))
