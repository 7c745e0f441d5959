"""Service facts: public values a preset recorded once its service ran (a hidden service's hostname).

A preset's ``prepare`` returns them; the engine records them here
(:meth:`put_facts`, replacing the service's previous ones) and every template
context reads them back (:meth:`facts`, or
:func:`~omnitron.state.recorded_facts` without an open store). Deleting a
service's data forgets them. Never a secret: facts are stored and shown in
plain text.
"""

from __future__ import annotations

import time
TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any


class FactsMixin:
    """:class:`~omnitron.state.StateStore`'s facts table."""

    _conn: Any
    transaction: Any

    def put_facts(self, stack: str, service: str, facts: dict[str, str]) -> None:
        """Replace every fact of ``service`` with ``facts`` (public values only, never secrets)."""
        now = time.time()
        with self.transaction() as c:
            c.execute("DELETE FROM facts WHERE stack=? AND service=?", (stack, service))
            c.executemany(
                "INSERT INTO facts(stack, service, key, value, recorded_at) VALUES (?,?,?,?,?)",
                [(stack, service, key, str(value), now) for key, value in sorted(facts.items())],
            )

    def facts(self, stack: str) -> dict[str, dict[str, str]]:
        """Service -> its recorded facts, for every service of ``stack``."""
        out: dict[str, dict[str, str]] = {}
        for service, key, value in self._conn.execute("SELECT service, key, value FROM facts WHERE stack=? ORDER BY service, key", (stack,)):
            out.setdefault(service, {})[key] = value
        return out
