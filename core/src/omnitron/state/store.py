"""The project's state store: one SQLite database under ``.omnitron/``.

Holds per-app allocations (database names, Redis DB indexes, buckets),
per-provider records of what each provider runs (:mod:`.records`), the
addresses providers chose at run time (:mod:`.addresses`), service
facts (:mod:`.facts`: public values a preset recorded once its service ran,
such as a hidden service's hostname), endpoints handed to apps
(:mod:`.endpoints`, for the phantom janitor), how far ``up`` got with each
service (:mod:`.readiness`: ``ready`` only once fully prepared), what the
reconciler did (:mod:`.events`), where apps listen
(:mod:`.app_endpoints`: ports allocated for them, addresses ``run`` saw), settings
remembered per stack and a history of runs. Every write is one transaction,
so a killed run leaves it consistent. No secret value is ever stored here.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any

from ..errors import OmnitronError
from .addresses import AddressesMixin
from .app_endpoints import AppEndpointsMixin
from .directory import make_state_dir
from .endpoints import EndpointsMixin
from .events import EventsMixin, KeptMixin
from .facts import FactsMixin
from .readiness import ReadinessMixin
from .records import RecordsMixin
from .schema import upgrade


PROVIDER_SETTING = "provider"
"""Key of the provider the last ``infra up`` of a stack ran with, among the per-stack settings."""


class IndexExhausted(OmnitronError):
    exit_code = 1


class StateStore(RecordsMixin, EndpointsMixin, FactsMixin, AddressesMixin, ReadinessMixin, EventsMixin, KeptMixin, AppEndpointsMixin):
    """Access to ``.omnitron/state.db``. Cheap to open; safe to use from several processes."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        make_state_dir(state_dir)
        self.path = state_dir / "state.db"
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        upgrade(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    # -- allocations --------------------------------------------------------

    def get_allocation(self, stack: str, service: str, kind: str, name: str) -> dict | None:
        row = self._conn.execute(
            "SELECT value_json FROM allocations WHERE stack=? AND service=? AND kind=? AND name=?", (stack, service, kind, name)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put_allocation(self, stack: str, service: str, app: str, kind: str, name: str, value: dict) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO allocations(stack, service, app, kind, name, value_json, created_at) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(stack, service, kind, name) DO UPDATE SET value_json=excluded.value_json, app=excluded.app",
                (stack, service, app, kind, name, json.dumps(value, sort_keys=True), time.time()),
            )

    def allocations(self, stack: str, app: str | None = None) -> list[dict]:
        sql = "SELECT service, app, kind, name, value_json FROM allocations WHERE stack=?"
        args: list = [stack]
        if app is not None:
            sql += " AND app=?"
            args.append(app)
        return [
            {"service": s, "app": a, "kind": k, "name": n, "values": json.loads(v)}
            for s, a, k, n, v in self._conn.execute(sql + " ORDER BY service, kind, name", args)
        ]

    def app_allocations(self, stack: str, app: str, planned: Iterable[Any] = ()) -> dict[str, dict[str, str]]:
        """Service -> the ``${alloc:KEY}`` values recorded for ``app`` in ``stack`` (as strings).

        :param planned: the app's allocation requests in the current plan (``kind``, ``service``, ``name``): a
            recorded one of the same kind on the same service under another name (a database the app was given
            before its ``name`` changed) is left out, so the app gets the one it declares now.
        """
        return _values_by_service(current_allocations(self.allocations(stack, app), planned))

    def allocate_index(self, stack: str, service: str, owner: str, *, start: int, limit: int, reserved: set[int] = frozenset()) -> int:
        """A stable index in ``[start, limit)`` for ``owner``; the same one on every call.

        Indexes in ``reserved`` or held by another owner are never handed out.
        """
        with self.transaction() as c:
            row = c.execute("SELECT idx FROM indexes WHERE stack=? AND service=? AND owner=?", (stack, service, owner)).fetchone()
            if row:
                return int(row[0])
            taken = {r[0] for r in c.execute("SELECT idx FROM indexes WHERE stack=? AND service=?", (stack, service))}
            for idx in range(start, limit):
                if idx not in taken and idx not in reserved:
                    c.execute("INSERT INTO indexes(stack, service, idx, owner) VALUES (?,?,?,?)", (stack, service, idx, owner))
                    return idx
        raise IndexExhausted(
            f"service {service}: no free index left in {start}..{limit - 1} for {owner!r} "
            f"({len(taken)} taken, {len(reserved)} reserved): raise the server's database count or free one"
        )

    def indexes(self, stack: str, service: str) -> dict[str, int]:
        return {o: i for o, i in self._conn.execute("SELECT owner, idx FROM indexes WHERE stack=? AND service=?", (stack, service))}

    def forget_service(self, stack: str, service: str) -> None:
        """Drop allocations, indexes, facts and the recorded address of a service whose data was deleted."""
        with self.transaction() as c:
            c.execute("DELETE FROM allocations WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM indexes WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM facts WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM addresses WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM readiness WHERE stack=? AND service=?", (stack, service))

    # -- per-stack settings remembered between commands ---------------------------

    def get_setting(self, stack: str, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE stack=? AND key=?", (stack, key)).fetchone()
        return row[0] if row else None

    def set_setting(self, stack: str, key: str, value: str | None) -> None:
        with self.transaction() as c:
            if value is None:
                c.execute("DELETE FROM settings WHERE stack=? AND key=?", (stack, key))
            else:
                c.execute("INSERT OR REPLACE INTO settings(stack, key, value) VALUES (?,?,?)", (stack, key, value))

    # -- history --------------------------------------------------------------

    def log_event(self, stack: str, action: str, detail: str = "") -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO events(ts, stack, action, detail) VALUES (?,?,?,?)", (time.time(), stack, action, detail))

    def last_event(self, stack: str, action: str) -> float | None:
        row = self._conn.execute("SELECT MAX(ts) FROM events WHERE stack=? AND action=?", (stack, action)).fetchone()
        return row[0] if row and row[0] is not None else None


def current_allocations(rows: Iterable[dict], planned: Iterable[Any]) -> list[dict]:
    """``rows`` (:meth:`StateStore.allocations`) without those a planned request replaces: one of the same app,
    service and kind under another name."""
    wanted = {(r.app, r.service, r.kind): r.name for r in planned}
    return [row for row in rows if wanted.get((row["app"], row["service"], row["kind"]), row["name"]) == row["name"]]


def _values_by_service(rows: Iterable[dict]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        out.setdefault(row["service"], {}).update({k: str(v) for k, v in row["values"].items()})
    return out


def recorded_allocations(state_dir: Path, stack: str, planned: Iterable[Any] = ()) -> dict[str, dict[str, dict[str, str]]]:
    """App -> service -> the ``${alloc:...}`` values recorded for ``stack`` (a Redis index, a bucket); ``{}`` before the first ``up``.

    :param planned: allocation requests of the current plan (see :meth:`StateStore.app_allocations`).
    """
    if not (state_dir / "state.db").exists():
        return {}
    out: dict[str, list[dict]] = {}
    with StateStore(state_dir) as state:
        for row in current_allocations(state.allocations(stack), planned):
            out.setdefault(row["app"], []).append(row)
    return {app: _values_by_service(rows) for app, rows in out.items()}


def recorded_facts(state_dir: Path, stack: str) -> dict[str, dict[str, str]]:
    """Service -> facts recorded for ``stack`` under ``state_dir``; ``{}`` when nothing ran yet (no store is created)."""
    if not (state_dir / "state.db").exists():
        return {}
    with StateStore(state_dir) as state:
        return state.facts(stack)


def recorded_app_ports(state_dir: Path, stack: str) -> dict[str, dict[str, int]]:
    """App -> port name -> port allocated for it in ``stack`` under ``state_dir``; ``{}`` when nothing ran yet (no store is created)."""
    if not (state_dir / "state.db").exists():
        return {}
    with StateStore(state_dir) as state:
        return state.app_ports(stack)
