"""Service readiness: how far the last ``up`` got with each service, at which spec hash.

The engine records ``starting`` before a provider is asked to run a service
and ``ready`` only once the service is healthy, prepared by its preset, and
every allocation on it is made; ``failed`` when it did not get there. A
command killed on the way leaves ``starting``: a service is never *ready* in
the state store before it was fully prepared, so a reconcile loop (or the
next ``up``) knows to finish it.
"""

from __future__ import annotations

import time
TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any

PHASES = ("starting", "ready", "failed")


class ReadinessMixin:
    """:class:`~omnitron.state.StateStore`'s readiness table."""

    _conn: Any
    transaction: Any

    def mark_service(self, stack: str, service: str, phase: str, spec_hash: str, detail: str = "") -> None:
        """Record that ``service`` reached ``phase`` (one of :data:`PHASES`) at ``spec_hash``."""
        if phase not in PHASES:
            raise ValueError(f"unknown readiness phase {phase!r}")
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO readiness(stack, service, phase, spec_hash, detail, updated_at) VALUES (?,?,?,?,?,?)",
                (stack, service, phase, spec_hash, detail, time.time()),
            )

    def readiness(self, stack: str) -> dict[str, dict[str, Any]]:
        """Service -> ``{"phase", "specHash", "detail", "updatedAt"}`` of every service ``up`` handled in ``stack``."""
        rows = self._conn.execute("SELECT service, phase, spec_hash, detail, updated_at FROM readiness WHERE stack=? ORDER BY service", (stack,))
        return {s: {"phase": p, "specHash": h, "detail": d, "updatedAt": u} for s, p, h, d, u in rows}

    def is_ready(self, stack: str, service: str, spec_hash: str) -> bool:
        """Whether ``service`` was last fully prepared at ``spec_hash``."""
        row = self._conn.execute("SELECT phase, spec_hash FROM readiness WHERE stack=? AND service=?", (stack, service)).fetchone()
        return row is not None and row[0] == "ready" and row[1] == spec_hash
