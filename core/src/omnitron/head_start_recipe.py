"""What a provider hands over to start a service again ahead of planning (:meth:`omnitron.providers.Provider.head_start`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HeadStart:
    """How to start one service again from nothing, before the next ``infra up`` has even planned (:meth:`Provider.head_start`).

    The next cold ``up`` whose plan would be made from the same inputs (the
    config files, the env vars planning read plus :attr:`env`, the installed
    software, the secret store's files, what planning reads from the state store)
    calls ``runner`` with ``recipe`` in a thread as soon as the command line is
    read, before pydantic, plugins or planning are loaded; the full path then finds
    the service running as planned and adopts it. See :mod:`omnitron.plancache.headstart`.
    """

    runner: str
    """``module:function``, importable with the standard library alone: ``function(recipe, reveal, created)`` starts
    the service and returns the provider's record of it (stored as :meth:`~omnitron.state.StateStore.put_record`
    would), or ``None`` when it started nothing (anything not exactly as recorded: it leaves the work to the full
    path). ``recipe`` is as kept, its secrets as references: ``reveal(part)`` is that part of it with them put back
    (the store is read at the first call: call it when a secret is needed, not before). ``created()`` says that what
    the stack's services share (a network) and what holds the service's name exist: the full path goes on with
    the other services from then on, while this one starts. Never raises."""
    recipe: dict[str, Any]
    """Plain JSON data. Rendered from the ``marked`` spec, it holds secrets only as the tokens of that spec, which
    the core keeps as references to the secret store and puts back when it runs; never a secret's value."""
    env: tuple[str, ...] = ()
    """Environment variables the provider read to make the recipe: a change to one of them voids it."""
    ports: tuple[tuple[str, int], ...] = ()
    """The host addresses (``host``, ``port``) the service listens on: a head start runs only while all of the
    stack's are free (as the full path checks them all before it starts anything)."""
