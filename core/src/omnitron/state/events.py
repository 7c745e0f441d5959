"""What the reconciler, the janitor and ``infra up`` did, and why: the events ``omnitron infra events`` shows.

One row per action (``create``, ``start``, ``recreate``, ``restart``, ``remove-orphan``,
``backoff``, ``regate``, ``phantom``, ``drop-phantom``, ``config-error``, ``provider-error``, ...),
with the service it concerns (``""`` for the stack), a reason for people and a
small JSON object of details for scripts. Rows are written in one transaction
each, so a killed daemon loses none it reported.
"""

from __future__ import annotations

import json
import time
from collections import namedtuple

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any

LAST_RECONCILED = "last_reconciled"
"""Per-stack setting: when the last reconcile pass completed (epoch seconds)."""
WAITING_PREFIX = "waiting:"
"""Per-stack settings ``waiting:<service>`` -> the dependency it waits for (re-gated by a restart)."""


class Event(namedtuple("Event", "id ts stack service action reason data")):
    """One recorded action (immutable): ``id``, ``ts`` (epoch seconds), ``stack``, ``service`` (``""`` for the stack),
    ``action``, ``reason`` (for people) and ``data`` (a dict of details for scripts).
    A named tuple: reading the store imports no :mod:`dataclasses`."""

    __slots__ = ()

    def as_json(self) -> dict[str, Any]:
        """camelCase keys, the time as ISO 8601 (UTC)."""
        import datetime as _dt

        stamp = _dt.datetime.fromtimestamp(self.ts, _dt.timezone.utc).isoformat(timespec="milliseconds")
        return {"id": self.id, "time": stamp, "stack": self.stack, "service": self.service, "action": self.action, "reason": self.reason, "data": self.data}


class EventsMixin:
    """:class:`~omnitron.state.StateStore`'s reconcile events, the last pass and the re-gated services."""

    _conn: Any
    transaction: Any
    get_setting: Any
    set_setting: Any

    def record_event(self, stack: str, service: str, action: str, reason: str = "", data: dict[str, Any] | None = None) -> Event:
        """Record one action with its reason; returns it with its id."""
        now = time.time()
        blob = json.dumps(data or {}, sort_keys=True, default=str)
        with self.transaction() as c:
            cursor = c.execute(
                "INSERT INTO reconcile_events(ts, stack, service, action, reason, data_json) VALUES (?,?,?,?,?,?)",
                (now, stack, service, action, reason, blob),
            )
            new_id = int(cursor.lastrowid)
        return Event(new_id, now, stack, service, action, reason, dict(data or {}))

    def events(self, stack: str | None = None, *, after: int = 0, limit: int | None = None, service: str | None = None) -> list[Event]:
        """Events with an id above ``after``, oldest first (the last ``limit`` of them when given)."""
        sql = "SELECT id, ts, stack, service, action, reason, data_json FROM reconcile_events WHERE id > ?"
        args: list[Any] = [after]
        if stack is not None:
            sql += " AND stack = ?"
            args.append(stack)
        if service is not None:
            sql += " AND service = ?"
            args.append(service)
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id"
            args.append(limit)
        else:
            sql += " ORDER BY id"
        return [Event(i, ts, st, svc, a, r, json.loads(d)) for i, ts, st, svc, a, r, d in self._conn.execute(sql, args)]

    def mark_reconciled(self, stack: str, when: float | None = None) -> None:
        """A reconcile pass of ``stack`` completed now (``lastReconciled``)."""
        self.set_setting(stack, LAST_RECONCILED, repr(time.time() if when is None else when))

    def last_reconciled(self, stack: str) -> float | None:
        value = self.get_setting(stack, LAST_RECONCILED)
        return float(value) if value else None

    def set_waiting(self, stack: str, service: str, dependency: str | None) -> None:
        """``service`` waits for ``dependency`` to be healthy again (``None``: it no longer waits)."""
        self.set_setting(stack, WAITING_PREFIX + service, dependency)

    def waiting(self, stack: str) -> dict[str, str]:
        """Service -> the dependency it waits for, for every re-gated service of ``stack``."""
        rows = self._conn.execute("SELECT key, value FROM settings WHERE stack=? AND key LIKE ?", (stack, WAITING_PREFIX + "%"))
        return {key[len(WAITING_PREFIX):]: value for key, value in rows}


KEPT = "kept"
"""Per-stack setting: a whole-stack ``infra up`` ran and no ``infra down`` since, so the daemon keeps the stack."""


class KeptMixin:
    """Which stacks the daemon keeps (set by a whole-stack ``up``, cleared by ``down``)."""

    _conn: Any
    get_setting: Any
    set_setting: Any

    def set_kept(self, stack: str, kept: bool) -> None:
        self.set_setting(stack, KEPT, "1" if kept else None)

    def is_kept(self, stack: str) -> bool:
        return self.get_setting(stack, KEPT) == "1"

    def kept_stacks(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT stack FROM settings WHERE key=? AND value='1' ORDER BY stack", (KEPT,))]
