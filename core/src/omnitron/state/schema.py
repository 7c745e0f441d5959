"""The state database's tables and how an older database is brought up to date (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

TABLES = """
CREATE TABLE IF NOT EXISTS allocations (
    stack TEXT NOT NULL, service TEXT NOT NULL, app TEXT NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, value_json TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL,
    PRIMARY KEY (stack, service, kind, name)
);
CREATE TABLE IF NOT EXISTS indexes (
    stack TEXT NOT NULL, service TEXT NOT NULL, idx INTEGER NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY (stack, service, idx), UNIQUE (stack, service, owner)
);
CREATE TABLE IF NOT EXISTS provider_records (
    stack TEXT NOT NULL, provider TEXT NOT NULL, service TEXT NOT NULL, data_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (stack, provider, service)
);
CREATE TABLE IF NOT EXISTS endpoints (
    stack TEXT NOT NULL, app TEXT NOT NULL, service TEXT NOT NULL, first_seen REAL NOT NULL,
    last_seen REAL NOT NULL, phantom_since REAL, env_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (stack, app, service)
);
CREATE TABLE IF NOT EXISTS settings (
    stack TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (stack, key)
);
CREATE TABLE IF NOT EXISTS facts (
    stack TEXT NOT NULL, service TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, recorded_at REAL NOT NULL,
    PRIMARY KEY (stack, service, key)
);
CREATE TABLE IF NOT EXISTS addresses (
    stack TEXT NOT NULL, service TEXT NOT NULL, provider TEXT NOT NULL, spec_hash TEXT NOT NULL, host TEXT NOT NULL,
    ports_json TEXT NOT NULL DEFAULT '{}', reason TEXT NOT NULL DEFAULT '', recorded_at REAL NOT NULL,
    PRIMARY KEY (stack, service)
);
CREATE TABLE IF NOT EXISTS readiness (
    stack TEXT NOT NULL, service TEXT NOT NULL, phase TEXT NOT NULL, spec_hash TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL,
    PRIMARY KEY (stack, service)
);
CREATE TABLE IF NOT EXISTS app_ports (
    stack TEXT NOT NULL, app TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL, allocated_at REAL NOT NULL,
    PRIMARY KEY (stack, app, name), UNIQUE (port)
);
CREATE TABLE IF NOT EXISTS app_endpoints (
    stack TEXT NOT NULL, app TEXT NOT NULL, name TEXT NOT NULL, host TEXT NOT NULL, port INTEGER NOT NULL,
    source TEXT NOT NULL, pid INTEGER, recorded_at REAL NOT NULL,
    PRIMARY KEY (stack, app, name)
);
CREATE TABLE IF NOT EXISTS events (
    ts REAL NOT NULL, stack TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS reconcile_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, stack TEXT NOT NULL, service TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', data_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS reconcile_events_stack ON reconcile_events(stack, id);
"""

VERSION = 6
"""1: per-provider records (``provider_records``); a provider's own older table is moved there by
:meth:`~omnitron.state.StateStore.import_legacy_table`. 2: service facts (``facts``). 3: runtime addresses (``addresses``).
4: service readiness (``readiness``, :mod:`.readiness`). 5: what the reconciler and the janitor did
(``reconcile_events``) and the env names handed with each endpoint (``endpoints.env_json``).
:func:`upgrade` brings any older version to this one (missing tables are created, the new column is added). 6: where apps listen (``app_ports``, ``app_endpoints``)."""


def upgrade(conn: sqlite3.Connection) -> None:
    """Create missing tables, in one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, TABLES.split(";")):
            conn.execute(statement)
        if "env_json" not in {row[1] for row in conn.execute("PRAGMA table_info(endpoints)")}:
            conn.execute("ALTER TABLE endpoints ADD COLUMN env_json TEXT NOT NULL DEFAULT '[]'")
        conn.execute(f"PRAGMA user_version = {VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def has_table(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None
