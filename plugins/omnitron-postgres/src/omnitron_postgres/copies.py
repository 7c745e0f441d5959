"""Databases for one test each: ``CREATE DATABASE ... TEMPLATE`` of the app's migrated database, dropped afterwards.

Cloning copies the template's files, so a test starts from the migrated
schema (and its seed data) in milliseconds. The template must have no other
connection while it is copied: leftover ones (an app's, a previous test's)
are closed first. This is what the test stack is for, never a shared one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnitron.api import ProvisionError

from .runtime import _first_line, connect

if TYPE_CHECKING:
    from omnitron.api import AllocationRequest, ServiceHandle


async def fresh_copy(handle: ServiceHandle, request: AllocationRequest, values: dict[str, str], token: str) -> dict[str, str]:
    import psycopg
    from psycopg import sql

    source = values.get("database") or request.name
    name = f"{source[:50]}_{token}"
    async with await connect(handle) as conn:
        try:
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (source,))
            await conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source)))
        except psycopg.Error as exc:
            raise ProvisionError(f"service {handle.name}: cannot clone database {source} for a test: {_first_line(exc)}") from None
    return {**values, "database": name}


async def drop_copy(handle: ServiceHandle, request: AllocationRequest, values: dict[str, str]) -> None:
    from psycopg import sql

    async with await connect(handle) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(values["database"])))


TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
"""What a server only tests use runs with (as pytest-postgresql's): no waiting for the disk; reloaded, no restart."""


async def tune_for_tests(handle: ServiceHandle) -> None:
    """``ALTER SYSTEM`` the :data:`TEST_SETTINGS` and reload (kept in the stack's data directory, gone with it)."""
    import psycopg
    from psycopg import sql

    async with await connect(handle) as conn:
        try:
            for name, value in TEST_SETTINGS.items():
                await conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            await conn.execute("SELECT pg_reload_conf()")
        except psycopg.Error as exc:
            raise ProvisionError(f"service {handle.name}: cannot set {', '.join(TEST_SETTINGS)} for the tests: {_first_line(exc)}") from None
