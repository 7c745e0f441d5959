"""Which containers of one ``up`` start first: those whose first start initialises data (databases).

Container starts asked at once share the engine (a start is mostly the
engine's own work; on two cores two together took about 430 ms each, one after
the other about 220 and 290 ms), and a cold ``up`` lasts as long as its slowest
service. That is the one whose image initialises its data on first start
(Postgres' ``initdb``: a second or more, where Redis is up in milliseconds), so
it starts first and the others right after its start returned, instead of all
sharing the engine while the slow one waits its turn. A service is such a one when its preset
describes a data template (:meth:`~omnitron.api.Preset.data_template`): the
preset says its initialisation is worth skipping. One that depends on another
service of the ``up`` starts after that one is healthy anyway, so it is not put
first (the others would wait for it, it for them).

Without :meth:`plan` (an ``ensure`` outside an ``up``) nobody waits. Nobody
waits longer than :data:`WAIT_LIMIT_S` either: a first service that is slow to
reach its start (an image being pulled) does not hold the others back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio

from omnitron.api import PlannedService

WAIT_LIMIT_S = 3.0


class StartOrder:
    """The services of the current ``up`` that start first, and whether each has (or will not start)."""

    def __init__(self) -> None:
        self._first: dict[str, anyio.Event] = {}

    def plan(self, services: Iterable[PlannedService], presets: Any) -> list[str]:
        """Choose the services of this ``up`` that start first (none when all or none of them would); their names."""
        services = list(services)
        names = {svc.name for svc in services}
        first = [svc.name for svc in services if _initialises_data(svc, presets) and not set(svc.depends_on) & names]
        self._first = {name: anyio.Event() for name in first} if 0 < len(first) < len(services) else {}
        return sorted(self._first)

    def started(self, service: str) -> None:
        """``service`` started, or will not start in this ``up`` (it ran already, or failed): the others may go."""
        event = self._first.get(service)
        if event is not None:
            event.set()

    async def wait_turn(self, service: str) -> None:
        """Before ``service`` starts: until every service that starts first has, at most :data:`WAIT_LIMIT_S`."""
        if service in self._first:
            return
        with anyio.move_on_after(WAIT_LIMIT_S):
            for event in list(self._first.values()):
                await event.wait()


def _initialises_data(svc: PlannedService, presets: Any) -> bool:
    preset = (presets or {}).get(svc.preset) if svc.preset else None
    return preset is not None and preset.data_template() is not None
