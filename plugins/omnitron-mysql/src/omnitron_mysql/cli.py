"""``omnitron infra mysql [DATABASE]``: a client session on the managed MySQL or MariaDB.

Runs the local ``mariadb`` (or ``mysql``) client when one is on PATH, as
root over TCP, the password in ``MYSQL_PWD`` (read from the secret store
now, never on the command line). Otherwise runs the client where the
service runs: inside its container (found by the provider through its
labels; the container's own ``MYSQL_ROOT_PASSWORD`` is used there), or
beside its process. The URL with the password is printed only with
``--print-url``.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from cyclopts import Parameter

from omnitron.api import ProjectOpt, StackOpt

if TYPE_CHECKING:
    from omnitron.api import Plan, PlannedService

PRESETS = ("mysql", "mariadb")


def pick(plan: Plan, wanted: str | None) -> PlannedService:
    """The stack's one MySQL or MariaDB service, or the one named ``wanted``."""
    from omnitron.api import ConfigError

    candidates = [s for s in plan.services if s.preset in PRESETS]
    names = ", ".join(s.name for s in candidates) or "(none)"
    if wanted is not None:
        for svc in candidates:
            if svc.name == wanted:
                return svc
        raise ConfigError(f"no mysql or mariadb service named {wanted!r} in stack {plan.stack}; such services: {names}")
    if not candidates:
        raise ConfigError(f"stack {plan.stack} has no mysql or mariadb service")
    if len(candidates) > 1:
        raise ConfigError(f"stack {plan.stack} has several mysql/mariadb services ({names}): choose one with --service")
    return candidates[0]


def mysql(
    database: str | None = None,
    *,
    command: Annotated[str | None, Parameter(name=["--command", "-c"], help="Run SQL and exit (several statements separated by ;).")] = None,
    service: Annotated[str | None, Parameter(name="--service", help="Which mysql/mariadb service, when the stack has several.")] = None,
    print_url: Annotated[bool, Parameter(name="--print-url", negative="", help="Print the root connection URL, password included, and exit.")] = False,
    project: ProjectOpt = None,
    stack: StackOpt = None,
) -> int:
    """Open a MySQL client as root on the managed server (DATABASE: the one to use)."""
    import anyio

    from omnitron.api import ProvisionError, exec_in_service, interactive_exec_argv, load_stack, secret_value

    from .client import in_service

    loaded = load_stack(project, stack)
    svc = pick(loaded.plan, service)
    password = secret_value(loaded.project, svc, "password")
    host, port = svc.host, svc.ports["main"]
    if print_url:
        print(f"mysql://root:{quote(password, safe='')}@{host}:{port}/{quote(database or '', safe='')}")
        return 0
    target = [database] if database else []
    sql = ["--execute", command] if command is not None else []
    local = shutil.which("mariadb") or shutil.which("mysql")
    if local is not None:
        argv = [local, "--protocol=TCP", f"--host={host}", f"--port={port}", "--user=root", *target, *sql]
        sys.stdout.flush()
        os.execve(local, argv, {**os.environ, "MYSQL_PWD": password})
    if command is None and sys.stdin.isatty():
        argv = anyio.run(lambda: interactive_exec_argv(loaded.project, loaded.plan, svc, in_service(svc.provider, "mysql", target)))
        if argv is None:
            raise ProvisionError(f"no mysql client is installed here and service {svc.name} runs with the {svc.provider} provider: install mariadb-client, or pass -c SQL")
        sys.stdout.flush()
        os.execvp(argv[0], argv)
    text = command if command is not None else sys.stdin.read()
    result = anyio.run(lambda: exec_in_service(loaded.project, loaded.plan, svc, in_service(svc.provider, "mysql", [*target, "--execute", text])))
    sys.stdout.write(result.output)
    return result.exit_code
