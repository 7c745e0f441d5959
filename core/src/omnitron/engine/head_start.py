"""What an ``up`` does about head starts: the services started ahead of it, and the offers it collects for the next one.

A cold ``up`` (the stack was down) asks each provider, once it made a service
run, how to start that service again from nothing (:meth:`~omnitron.providers.Provider.head_start`):
the recipe is built from the service's spec rendered with tokens for its
secrets (:mod:`omnitron.secret_tokens`), so it holds references to the secret
store and no value. :mod:`omnitron.usecases.head_start` keeps the offers with
the inputs the plan was made from; :mod:`omnitron.plancache.headstart` runs
them at the next cold ``up`` with the same inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import PlannedService
    from ..providers import Provider, RuntimeSpec
    from .session import Session


class HeadStarts:
    """One ``up``'s view of head starts.

    :param ahead: service -> ``wait()`` of each service a head start is making run before this ``up`` got to it
        (``{"provider", "record"}`` once it is done, or ``None`` when it started nothing).
    :param collect: ask the providers for offers (a cold ``up`` of the whole stack).
    :param ran: the offers the head start ran (kept again for the next cold ``up`` where they worked).
    """

    def __init__(self, ahead: dict[str, Callable[[], dict[str, Any] | None]] | None = None, *, collect: bool = False, ran: dict[str, dict[str, Any]] | None = None) -> None:
        self.ahead = dict(ahead or {})
        self._ran = dict(ran or {})
        self.offers: dict[str, dict[str, Any]] | None = {} if collect else None
        """Service -> its offer for the next cold ``up`` (``None``: not collected): what a provider offered now, or
        the offer a head start just ran and that worked."""

    async def take(self, session: Session, svc: PlannedService) -> bool:
        """Wait for the head start of ``svc`` (if any) and store its provider record, as the provider's own start
        stores it; whether it made ``svc`` run (its provider's ``ensure`` then finds it running as planned)."""
        wait = self.ahead.pop(svc.name, None)
        if wait is None:
            return False
        import anyio

        done = await anyio.to_thread.run_sync(wait)
        if done is None:
            return False
        session.state.put_record(session.plan.stack, done["provider"], svc.name, done["record"])
        if self.offers is not None and svc.name in self._ran:
            self.offers[svc.name] = self._ran[svc.name]
        return True

    def offer(self, session: Session, svc: PlannedService, provider: Provider, spec: RuntimeSpec) -> None:
        """Ask ``provider`` for a head start of ``svc``, which its ``ensure(spec)`` just made run; keep it if it
        holds no secret. Nothing here may fail the ``up``."""
        if self.offers is None or svc.depends_on or _materialises(session, svc):
            return  # started ahead, it would not wait for what it depends on, nor find its files written
        try:
            made = _offer(session, svc, provider, spec)
        except Exception:  # noqa: BLE001 - an offer is an optimisation: never a reason for the up to fail
            made = None
        if made is not None:
            self.offers[svc.name] = made


def _materialises(session: Session, svc: PlannedService) -> bool:
    """Whether ``svc``'s preset writes what it reads before each start (:meth:`~omnitron.presets.Preset.materialise`)."""
    from ..presets import Preset

    preset = session.plugins.presets.get(svc.preset) if svc.preset else None
    return preset is not None and type(preset).materialise is not Preset.materialise


def _offer(session: Session, svc: PlannedService, provider: Provider, spec: RuntimeSpec) -> dict[str, Any] | None:
    from ..secret_tokens import SecretTokens
    from .render import rendered_with

    tokens = SecretTokens()
    marked = rendered_with(session, svc, tokens.reference)
    made = provider.head_start(spec, marked)
    if made is None:
        return None
    recipe = tokens.encode(made.recipe)
    if recipe is None:
        return None
    text = json.dumps(recipe)
    values = [session.resolver(key) for key in tokens.asked]
    if any(value and value in text for value in values):
        return None  # a secret's value is in it after all: it stays in memory
    return {"provider": svc.provider, "runner": made.runner, "recipe": recipe, "env": sorted(made.env), "ports": [[h, int(p)] for h, p in made.ports]}
