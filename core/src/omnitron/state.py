"""The project's state store: one SQLite database under ``.omnitron/``.

Holds per-app allocations (database names, Redis DB indexes, buckets), the
processes the process provider supervises, service facts (public values a
preset recorded once its service ran, such as a hidden service's hostname),
endpoints handed to apps (for the phantom janitor) and a history of runs. Every write is one transaction, so a
killed run leaves it consistent. :func:`project_lock` keeps two ``infra up``
runs from racing. No secret value is ever stored here.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import OmnitronError

SCHEMA = """
CREATE TABLE IF NOT EXISTS allocations (
    stack TEXT NOT NULL, service TEXT NOT NULL, app TEXT NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, value_json TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL,
    PRIMARY KEY (stack, service, kind, name)
);
CREATE TABLE IF NOT EXISTS indexes (
    stack TEXT NOT NULL, service TEXT NOT NULL, idx INTEGER NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY (stack, service, idx), UNIQUE (stack, service, owner)
);
CREATE TABLE IF NOT EXISTS processes (
    stack TEXT NOT NULL, service TEXT NOT NULL, pid INTEGER NOT NULL, pgid INTEGER NOT NULL,
    spec_hash TEXT NOT NULL, started_at REAL NOT NULL, data_dir TEXT, log_path TEXT, info_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (stack, service)
);
CREATE TABLE IF NOT EXISTS endpoints (
    stack TEXT NOT NULL, app TEXT NOT NULL, service TEXT NOT NULL, first_seen REAL NOT NULL,
    last_seen REAL NOT NULL, phantom_since REAL,
    PRIMARY KEY (stack, app, service)
);
CREATE TABLE IF NOT EXISTS settings (
    stack TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (stack, key)
);
CREATE TABLE IF NOT EXISTS facts (
    stack TEXT NOT NULL, service TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, recorded_at REAL NOT NULL,
    PRIMARY KEY (stack, service, key)
);
CREATE TABLE IF NOT EXISTS events (
    ts REAL NOT NULL, stack TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
);
"""


class IndexExhausted(OmnitronError):
    exit_code = 1


@dataclass
class ProcessRecord:
    stack: str
    service: str
    pid: int
    pgid: int
    spec_hash: str
    started_at: float
    data_dir: str | None
    log_path: str | None
    info: dict


class StateStore:
    """Access to ``.omnitron/state.db``. Cheap to open; safe to use from several processes."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "state.db"
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

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
        """Drop allocations, indexes and facts of a service whose data was deleted."""
        with self.transaction() as c:
            c.execute("DELETE FROM allocations WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM indexes WHERE stack=? AND service=?", (stack, service))
            c.execute("DELETE FROM facts WHERE stack=? AND service=?", (stack, service))

    # -- service facts ----------------------------------------------------------

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

    # -- processes ------------------------------------------------------------

    def put_process(self, rec: ProcessRecord) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO processes(stack, service, pid, pgid, spec_hash, started_at, data_dir, log_path, info_json) VALUES (?,?,?,?,?,?,?,?,?)",
                (rec.stack, rec.service, rec.pid, rec.pgid, rec.spec_hash, rec.started_at, rec.data_dir, rec.log_path, json.dumps(rec.info)),
            )

    def get_process(self, stack: str, service: str) -> ProcessRecord | None:
        row = self._conn.execute(
            "SELECT stack, service, pid, pgid, spec_hash, started_at, data_dir, log_path, info_json FROM processes WHERE stack=? AND service=?", (stack, service)
        ).fetchone()
        return ProcessRecord(*row[:8], json.loads(row[8])) if row else None

    def processes(self, stack: str) -> list[ProcessRecord]:
        rows = self._conn.execute(
            "SELECT stack, service, pid, pgid, spec_hash, started_at, data_dir, log_path, info_json FROM processes WHERE stack=? ORDER BY service", (stack,)
        )
        return [ProcessRecord(*r[:8], json.loads(r[8])) for r in rows]

    def delete_process(self, stack: str, service: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM processes WHERE stack=? AND service=?", (stack, service))

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

    # -- endpoints and history ------------------------------------------------

    def touch_endpoints(self, stack: str, app: str, services: list[str]) -> None:
        now = time.time()
        with self.transaction() as c:
            for svc in services:
                c.execute(
                    "INSERT INTO endpoints(stack, app, service, first_seen, last_seen) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(stack, app, service) DO UPDATE SET last_seen=excluded.last_seen, phantom_since=NULL",
                    (stack, app, svc, now, now),
                )

    def log_event(self, stack: str, action: str, detail: str = "") -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO events(ts, stack, action, detail) VALUES (?,?,?,?)", (time.time(), stack, action, detail))

    def last_event(self, stack: str, action: str) -> float | None:
        row = self._conn.execute("SELECT MAX(ts) FROM events WHERE stack=? AND action=?", (stack, action)).fetchone()
        return row[0] if row and row[0] is not None else None


def recorded_facts(state_dir: Path, stack: str) -> dict[str, dict[str, str]]:
    """Service -> facts recorded for ``stack`` under ``state_dir``; ``{}`` when nothing ran yet (no store is created)."""
    if not (state_dir / "state.db").exists():
        return {}
    with StateStore(state_dir) as state:
        return state.facts(stack)


@contextlib.contextmanager
def project_lock(state_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the project's lock (``infra up``/``down``/``reset`` take it)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            raise OmnitronError(f"another omnitron command holds {state_dir / 'lock'}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)
