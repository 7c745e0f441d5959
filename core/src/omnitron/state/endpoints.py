"""Endpoints handed to apps: which app was given which service's env, and when last (the phantom janitor's input).

``omnitron run`` records them (:meth:`touch_endpoints`); the daemon's janitor
marks those of apps and services no longer in the plan phantom
(:meth:`mark_phantoms`) and drops phantoms older than its retention window
(:meth:`drop_phantoms`). Containers and data are never touched by this.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from collections import namedtuple

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any


class Endpoint(namedtuple("Endpoint", "stack app service first_seen last_seen phantom_since env", defaults=(None, ()))):
    """``app`` given ``service``'s env in ``stack`` (immutable): ``first_seen``/``last_seen`` and ``phantom_since``
    (epoch seconds, or None while live), ``env`` the names (never values) of the env vars the binding handed the app.
    A named tuple: reading the store imports no :mod:`dataclasses`."""

    __slots__ = ()

    @property
    def state(self) -> str:
        return "phantom" if self.phantom_since is not None else "live"

    def as_json(self) -> dict[str, Any]:
        """camelCase keys, times as ISO 8601 (UTC)."""
        return {
            "stack": self.stack, "app": self.app, "service": self.service, "state": self.state, "env": list(self.env),
            "firstSeen": _iso(self.first_seen), "lastSeen": _iso(self.last_seen), "phantomSince": _iso(self.phantom_since),
        }


def _iso(ts: float | None) -> str | None:
    import datetime as _dt

    return None if ts is None else _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")


class EndpointsMixin:
    """:class:`~omnitron.state.StateStore`'s endpoints table."""

    _conn: Any
    transaction: Any

    def touch_endpoints(self, stack: str, app: str, services: list[str], env: Mapping[str, list[str]] | None = None) -> None:
        """``app`` was handed the env of ``services`` now (a phantom mark is cleared).

        :param env: service -> names of the env vars handed from it (values are never recorded).
        """
        now = time.time()
        env = env or {}
        with self.transaction() as c:
            for svc in services:
                names = json.dumps(sorted(env.get(svc, [])))
                c.execute(
                    "INSERT INTO endpoints(stack, app, service, first_seen, last_seen, env_json) VALUES (?,?,?,?,?,?) "
                    "ON CONFLICT(stack, app, service) DO UPDATE SET last_seen=excluded.last_seen, phantom_since=NULL, env_json=excluded.env_json",
                    (stack, app, svc, now, now, names),
                )

    def endpoints(self, stack: str) -> list[Endpoint]:
        rows = self._conn.execute("SELECT stack, app, service, first_seen, last_seen, phantom_since, env_json FROM endpoints WHERE stack=? ORDER BY app, service", (stack,))
        return [Endpoint(*row[:6], env=tuple(json.loads(row[6] or "[]"))) for row in rows]

    def drop_endpoints(self, stack: str, endpoints: list[Endpoint]) -> None:
        """Delete these endpoints now (``infra prune --phantoms``)."""
        with self.transaction() as c:
            for e in endpoints:
                c.execute("DELETE FROM endpoints WHERE stack=? AND app=? AND service=?", (stack, e.app, e.service))

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
