"""Per-provider records: what a provider remembers about each service it runs (a pid, a container id, where its data is).

One row per (stack, provider, service) holding JSON. Typed access: a record
is a dataclass the provider defines (``ProcessRecord``); :meth:`put_record`
stores its fields, :meth:`get_record` / :meth:`records` build it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .schema import has_table

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R")


def _dump(record: Any) -> dict[str, Any]:
    import dataclasses  # loaded by then: the provider's record type is one

    return dataclasses.asdict(record) if dataclasses.is_dataclass(record) else dict(record)


def _load(kind: Callable[..., R], data: dict[str, Any]) -> R:
    import dataclasses

    if dataclasses.is_dataclass(kind):
        names = {f.name for f in dataclasses.fields(kind)}
        data = {k: v for k, v in data.items() if k in names}
        return kind(**data)
    return kind(data)


class RecordsMixin:
    """:class:`~omnitron.state.StateStore`'s per-provider records."""

    _conn: Any
    transaction: Any

    def put_record(self, stack: str, provider: str, service: str, record: Any) -> None:
        """Store ``record`` (a dataclass or a dict) for ``service``, replacing the previous one."""
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO provider_records(stack, provider, service, data_json) VALUES (?,?,?,?)",
                (stack, provider, service, json.dumps(_dump(record), sort_keys=True)),
            )

    def get_record(self, stack: str, provider: str, service: str, kind: Callable[..., R] = dict) -> R | None:
        row = self._conn.execute("SELECT data_json FROM provider_records WHERE stack=? AND provider=? AND service=?", (stack, provider, service)).fetchone()
        return _load(kind, {"service": service, **json.loads(row[0])}) if row else None

    def records(self, stack: str, provider: str, kind: Callable[..., R] = dict) -> dict[str, R]:
        """Service -> record of every service ``provider`` recorded in ``stack``, by service name."""
        rows = self._conn.execute("SELECT service, data_json FROM provider_records WHERE stack=? AND provider=? ORDER BY service", (stack, provider))
        return {service: _load(kind, {"service": service, **json.loads(data)}) for service, data in rows}

    def delete_record(self, stack: str, provider: str, service: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM provider_records WHERE stack=? AND provider=? AND service=?", (stack, provider, service))

    def import_legacy_table(self, table: str, provider: str, convert: Callable[[dict[str, Any]], tuple[str, str, Any]]) -> int:
        """Move the rows of a table an older omnitron kept for ``provider`` into its records, then drop the table.

        ``convert(row)`` returns ``(stack, service, record)``. Done once, in one
        transaction (a killed run leaves the old table); returns how many rows moved.
        """
        if not has_table(self._conn, table):
            return 0
        with self.transaction() as c:
            if not has_table(c, table):
                return 0
            cursor = c.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
            for row in rows:
                stack, service, record = convert(row)
                c.execute(
                    "INSERT OR REPLACE INTO provider_records(stack, provider, service, data_json) VALUES (?,?,?,?)",
                    (stack, provider, service, json.dumps(_dump(record), sort_keys=True)),
                )
            c.execute(f'DROP TABLE "{table}"')
        return len(rows)
