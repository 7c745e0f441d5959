"""Template functions of the tor preset.

- ``${onion:NAME}``: the ``.onion`` hostname of hidden service ``NAME``, for
  any app's env (``"PUBLIC_URL": "http://${onion:shop}"``). The hostname is a
  service fact recorded once tor made the keys; ``<pending>`` until then. An
  app using it depends on the tor service, so ``omnitron run`` starts tor first.
- ``${tor_target:TARGET}``: a hidden service's target resolved through the
  plan (used in the generated torrc).
- ``${tor_hashed_password:SECRET}``: tor's ``HashedControlPassword`` form of
  one of the service's secrets (used in the generated torrc).
"""

from __future__ import annotations

from typing import ClassVar

from omnitron.api import PENDING, SecretFunction, TemplateContext, TemplateFunction

from .password import hashed_control_password
from .targets import resolve

PRESET = "tor"


def fact_key(name: str) -> str:
    """The service fact holding hidden service ``name``'s hostname."""
    return f"onion:{name}"


def declared_hidden_services(ctx: TemplateContext) -> dict[str, str]:
    """Hidden service name -> the tor service declaring it, in the context's plan."""
    out: dict[str, str] = {}
    if ctx.plan is None:
        return out
    for svc in ctx.plan.services:
        if svc.preset == PRESET:
            for hs in svc.config.get("hidden_services") or []:
                out.setdefault(hs["name"], svc.name)
    return out


class OnionFunction(TemplateFunction):
    name = "onion"
    takes_argument: ClassVar[bool | None] = True

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        assert arg is not None
        declared = declared_hidden_services(ctx)
        service = declared.get(arg)
        if service is None:
            raise LookupError(f"no hidden service named {arg!r}; declared: {', '.join(sorted(declared)) or '(none)'}")
        ctx.needs.add(service)
        return ctx.facts.get(service, {}).get(fact_key(arg), PENDING)


class TargetFunction(TemplateFunction):
    name = "tor_target"
    takes_argument: ClassVar[bool | None] = True

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        assert arg is not None
        if ctx.plan is None:
            raise LookupError("a hidden service target is resolved through the plan, and none was given")
        return resolve(arg, ctx.plan)


class HashedPasswordFunction(SecretFunction):
    name = "tor_hashed_password"

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        return hashed_control_password(super().render(arg, ctx))
