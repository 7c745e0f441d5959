"""The server once it is healthy: configured databases, per-app databases and users.

Everything is idempotent (it runs on every ``infra up``): ``CREATE ... IF NOT
EXISTS``, then ``ALTER USER`` so a password changed in the secret store is
applied. An app's user has every privilege on its own database and none
anywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnitron.api import ProvisionError

from .sql import Statement, Target, driver_errors, first_line, grant_pattern, quote_identifier, run_async

if TYPE_CHECKING:
    from omnitron.api import AllocationRequest, ServiceHandle

ROOT = "root"


def root_target(handle: ServiceHandle) -> Target:
    """The service's root account over TCP (its password from the secret store)."""
    return Target(user=ROOT, password=handle.secret("password"), host=handle.host, port=handle.port("main"))


def create_database(name: str, charset: str | None, collation: str | None) -> Statement:
    query = f"CREATE DATABASE IF NOT EXISTS {quote_identifier(name)}"
    if charset:
        query += f" CHARACTER SET {charset}"
    if collation:
        query += f" COLLATE {collation}"
    return query, None


def database_statements(config: dict[str, Any]) -> list[Statement]:
    """``CREATE DATABASE IF NOT EXISTS`` for each configured database, in its charset and collation."""
    out: list[Statement] = []
    for name, options in (config.get("databases") or {}).items():
        options = options or {}
        charset = options.get("charset") or config.get("charset")
        collation = options.get("collation") or (config.get("collation") if not options.get("charset") else None)
        out.append(create_database(name, charset, collation))
    return out


def user_statements(user: str, password: str, database: str) -> list[Statement]:
    """The app's account (created, or its password set again) with all privileges on ``database`` only."""
    return [
        ("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password)),
        ("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password)),
        (f"GRANT ALL PRIVILEGES ON {grant_pattern(database)}.* TO %s@'%%'", (user,)),
    ]


async def _run(handle: ServiceHandle, statements: list[Statement], doing: str) -> None:
    try:
        await run_async(root_target(handle), statements)
    except driver_errors() as exc:
        raise ProvisionError(f"service {handle.name}: {doing}: {first_line(exc)}") from None


async def prepare(handle: ServiceHandle) -> None:
    """Create the configured ``databases``."""
    statements = database_statements(handle.service.config)
    if statements:
        await _run(handle, statements, "cannot create the configured databases")
        handle.log(f"databases: {', '.join(handle.service.config['databases'])}")


async def allocate(handle: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
    """Make the app's database and its own user exist; the user's password is the app's generated credential.

    :returns: ``{"database": NAME, "user": USER}`` for ``${alloc:...}``.
    """
    if request.kind != "database":
        raise ProvisionError(f"service {handle.name}: mysql cannot allocate a {request.kind!r} (only database)")
    database = str(request.values.get("database") or request.name)
    user = str(request.values.get("user") or database)
    password = handle.request_secret(request, "password")
    config = handle.service.config
    statements = [create_database(database, config.get("charset"), config.get("collation")), *user_statements(user, password, database)]
    await _run(handle, statements, f"cannot create database {database} and user {user} for app {request.app}")
    return {"database": database, "user": user}


async def dump(handle: ServiceHandle, database: str) -> str:
    """``mysqldump`` of ``database`` (schema, data, routines, triggers, events) through the provider's exec."""
    from .client import in_service

    args = ["--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", "--databases", database]
    result = await handle.exec(in_service(handle.service.provider, "mysqldump", args, quiet=True))
    if result.exit_code != 0:
        raise ProvisionError(f"service {handle.name}: dumping database {database} failed ({result.exit_code}): {result.output.strip()[-500:]}")
    return result.output
