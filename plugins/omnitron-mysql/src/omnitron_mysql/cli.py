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
from typing import Annotated
from urllib.parse import quote

from cyclopts import Parameter

from omnitron.api import ProjectOpt, StackOpt

PRESETS = ("mysql", "mariadb")


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

    from omnitron.api import ProvisionError, exec_in_service, interactive_exec_argv, load_stack, pick_service, secret_value

    from .client import in_service

    loaded = load_stack(project, stack)
    svc = pick_service(loaded.plan, PRESETS, service)
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
