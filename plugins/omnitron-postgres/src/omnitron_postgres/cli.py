"""``omnitron infra psql [DATABASE]``: a psql session on the managed PostgreSQL.

Runs the local ``psql`` when it is on PATH (the password goes through
``PGPASSWORD``, read from the secret store now); otherwise runs psql inside
the service's container, found by the provider through its labels. The URL
with the password is printed only with ``--print-url``.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated
from urllib.parse import quote

from cyclopts import Parameter

from omnitron.api import ProjectOpt, StackOpt, completes


def psql(
    database: str | None = None,
    *,
    command: Annotated[str | None, Parameter(name=["--command", "-c"], help="Run one SQL command and exit.")] = None,
    service: Annotated[str | None, Parameter(name="--service", help="Which postgres service, when the stack has several.", completer=completes("services"))] = None,
    app: Annotated[str | None, Parameter(name="--app", help="Connect to this app's database (on the service it uses).", completer=completes("apps"))] = None,
    print_url: Annotated[bool, Parameter(name="--print-url", negative="", help="Print the connection URL, password included, and exit.")] = False,
    project: ProjectOpt = None,
    stack: StackOpt = None,
) -> int:
    """Open psql against the managed Postgres (DATABASE defaults to the app's database with --app, else postgres;
    on a stack with several, DATABASE alone picks the service holding it)."""
    import anyio

    from omnitron.api import (
        exec_in_service,
        interactive_exec_argv,
        load_stack,
        pick_service,
        ProvisionError,
        secret_value,
    )

    loaded = load_stack(project, stack)
    app_db = None
    if app is not None:
        service, app_db = _app_database(loaded.plan, app, service)
    elif database is not None and service is None:
        service = _holding(loaded.plan, database)
    svc = pick_service(loaded.plan, "postgres", service)
    user = str(svc.config.get("user") or "postgres")
    dbname = database or app_db or "postgres"
    password = secret_value(loaded.project, svc, "password")
    host, port = svc.host, svc.ports["main"]
    if print_url:
        print(f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(dbname, safe='')}")
        return 0
    env = {**os.environ, "PGPASSWORD": password}
    local = shutil.which("psql")
    if local is not None:
        url = f"postgresql://{quote(user, safe='')}@{host}:{port}/{quote(dbname, safe='')}"
        sys.stdout.flush()
        os.execve(local, [local, url, *(["-c", command] if command is not None else [])], env)
    inner = ["psql", "-U", user, "-d", dbname]
    if command is None and sys.stdin.isatty():
        argv = anyio.run(lambda: interactive_exec_argv(loaded.project, loaded.plan, svc, inner, env_names=("PGPASSWORD",)))
        if argv is None:
            raise ProvisionError(f"psql is not installed here and service {svc.name} runs with the {svc.provider} provider: install postgresql-client, or pass -c SQL")
        sys.stdout.flush()
        os.execvpe(argv[0], argv, env)
    sql_text = command if command is not None else sys.stdin.read()
    result = anyio.run(lambda: exec_in_service(loaded.project, loaded.plan, svc, [*inner, "-c", sql_text]))
    sys.stdout.write(result.output)
    return result.exit_code


def _holding(plan, database: str) -> str | None:
    """The one postgres service holding ``database`` (an app's, or one its ``databases`` config declares), so
    ``psql DATABASE`` needs no ``--service`` on a stack with several; ``None`` when not exactly one does."""
    holders = {
        svc.name
        for svc in plan.services
        if svc.preset == "postgres"
        and (database in (svc.config.get("databases") or {}) or any(a.kind == "database" and a.service == svc.name and a.values.get("database") == database for app in plan.apps.values() for a in app.allocations))
    }
    return holders.pop() if len(holders) == 1 else None


def _app_database(plan, app: str, service: str | None) -> tuple[str, str]:
    """The postgres service and database ``app`` is given (its ``"database"`` shorthand)."""
    from omnitron.api import ConfigError

    if app not in plan.apps:
        raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
    postgres = {s.name for s in plan.services if s.preset == "postgres"}
    found = [a for a in plan.apps[app].allocations if a.kind == "database" and a.service in postgres and service in (None, a.service)]
    if not found:
        raise ConfigError(f"app {app} has no postgres database" + (f" on service {service}" if service else "") + ' (it declares no "database" shorthand)')
    return found[0].service, str(found[0].values.get("database") or found[0].name)
