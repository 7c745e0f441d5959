"""The state store: per-provider records, the endpoints the phantom janitor works on, the schema version."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from omnitron.state import StateStore


@dataclass
class Rec:
    service: str
    pid: int
    note: str = ""


def test_records_are_typed_per_stack_and_provider(tmp_path):
    with StateStore(tmp_path) as state:
        state.put_record("dev", "alpha", "db", Rec("db", 1, "x"))
        state.put_record("dev", "beta", "db", {"pid": 2})
        state.put_record("test", "alpha", "db", Rec("db", 3))
        assert state.get_record("dev", "alpha", "db", Rec) == Rec("db", 1, "x")
        assert state.get_record("dev", "beta", "db") == {"service": "db", "pid": 2}
        assert list(state.records("dev", "alpha", Rec).values()) == [Rec("db", 1, "x")]
        state.delete_record("dev", "alpha", "db")
        assert state.get_record("dev", "alpha", "db", Rec) is None and state.get_record("test", "alpha", "db", Rec) == Rec("db", 3)


def test_a_legacy_table_moves_once_into_the_records(tmp_path):
    with StateStore(tmp_path) as state:
        with sqlite3.connect(state.path) as db:
            db.execute("CREATE TABLE old_rows (stack TEXT, service TEXT, pid INTEGER)")
            db.execute("INSERT INTO old_rows VALUES ('dev', 'db', 7)")
        moved = state.import_legacy_table("old_rows", "alpha", lambda row: (row["stack"], row["service"], Rec(row["service"], row["pid"])))
        assert moved == 1 and state.get_record("dev", "alpha", "db", Rec) == Rec("db", 7)
        assert state.import_legacy_table("old_rows", "alpha", lambda row: ("x", "y", {})) == 0


def test_endpoints_become_phantoms_and_are_dropped_after_the_retention(tmp_path):
    with StateStore(tmp_path) as state:
        state.touch_endpoints("dev", "web", ["db", "cache"])
        marked = state.mark_phantoms("dev", {("web", "db")}, now=100.0)
        assert [(e.app, e.service) for e in marked] == [("web", "cache")]
        assert state.drop_phantoms("dev", older_than=50, now=120.0) == []
        assert [(e.app, e.service) for e in state.drop_phantoms("dev", older_than=50, now=200.0)] == [("web", "cache")]
        state.touch_endpoints("dev", "web", ["db"])
        assert [(e.service, e.phantom_since) for e in state.endpoints("dev")] == [("db", None)]


def test_the_schema_is_versioned(tmp_path):
    StateStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"allocations", "indexes", "provider_records", "endpoints", "settings", "events"} <= tables and "processes" not in tables
