"""Endpoints handed to apps: which app was given which service's env, and when last (the phantom janitor's input).

``omnitron run`` records them (:meth:`touch_endpoints`); the daemon's janitor
marks those of apps and services no longer in the plan phantom
(:meth:`mark_phantoms`) and drops phantoms older than its retention window
(:meth:`drop_phantoms`). Containers and data are never touched by this.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    stack: str
    app: str
    service: str
    first_seen: float
    last_seen: float
    phantom_since: float | None = None


class EndpointsMixin:
    """:class:`~omnitron.state.StateStore`'s endpoints table."""

    _conn: Any
    transaction: Any

    def touch_endpoints(self, stack: str, app: str, services: list[str]) -> None:
        """``app`` was handed the env of ``services`` now (a phantom mark is cleared)."""
        now = time.time()
        with self.transaction() as c:
            for svc in services:
                c.execute(
                    "INSERT INTO endpoints(stack, app, service, first_seen, last_seen) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(stack, app, service) DO UPDATE SET last_seen=excluded.last_seen, phantom_since=NULL",
                    (stack, app, svc, now, now),
                )

    def endpoints(self, stack: str) -> list[Endpoint]:
        rows = self._conn.execute("SELECT stack, app, service, first_seen, last_seen, phantom_since FROM endpoints WHERE stack=? ORDER BY app, service", (stack,))
        return [Endpoint(*row) for row in rows]

    def mark_phantoms(self, stack: str, live: set[tuple[str, str]], *, now: float | None = None) -> list[Endpoint]:
        """Mark every endpoint whose ``(app, service)`` is not in ``live`` phantom (from now on); returns those newly marked."""
        now = time.time() if now is None else now
        marked = [e for e in self.endpoints(stack) if (e.app, e.service) not in live and e.phantom_since is None]
        with self.transaction() as c:
            for e in marked:
                c.execute("UPDATE endpoints SET phantom_since=? WHERE stack=? AND app=? AND service=?", (now, stack, e.app, e.service))
        return marked

    def drop_phantoms(self, stack: str, *, older_than: float, now: float | None = None) -> list[Endpoint]:
        """Delete endpoints phantom for more than ``older_than`` seconds; returns them."""
        now = time.time() if now is None else now
        gone = [e for e in self.endpoints(stack) if e.phantom_since is not None and now - e.phantom_since > older_than]
        with self.transaction() as c:
            for e in gone:
                c.execute("DELETE FROM endpoints WHERE stack=? AND app=? AND service=?", (stack, e.app, e.service))
        return gone
