"""``omnitron infra redis-cli [ARGS...]``: redis-cli on the managed Redis.

Runs the local ``redis-cli`` with ``-u redis://HOST:PORT/DB`` when it is on
PATH, the password in ``REDISCLI_AUTH`` (read from the secret store now, never
on the command line); otherwise runs redis-cli inside the service's container,
found by the provider through its labels.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated
from urllib.parse import quote

from cyclopts import Parameter

from omnitron.api import ProjectOpt, StackOpt, completes


def redis_cli(
    *args: str,
    db: Annotated[int | None, Parameter(name=["--db", "-n"], help="DB index (default 0).")] = None,
    app: Annotated[str | None, Parameter(name="--app", help="Use the DB index allocated to this app.", completer=completes("apps"))] = None,
    service: Annotated[str | None, Parameter(name="--service", help="Which redis service, when the stack has several.", completer=completes("services"))] = None,
    print_url: Annotated[bool, Parameter(name="--print-url", negative="", help="Print the connection URL, password included, and exit.")] = False,
    project: ProjectOpt = None,
    stack: StackOpt = None,
) -> int:
    """Open redis-cli against the managed Redis; ARGS run one command (e.g. `-- GET key`)."""
    import anyio

    from omnitron.api import (
        ConfigError,
        exec_in_service,
        interactive_exec_argv,
        load_stack,
        pick_service,
        ProvisionError,
        secret_value,
    )

    loaded = load_stack(project, stack)
    if app is not None:
        if db is not None:
            raise ConfigError("give --db or --app, not both")
        service = _app_service(loaded.plan, app, service)
    svc = pick_service(loaded.plan, "redis", service)
    index = db if db is not None else 0
    if app is not None:
        index = _allocated_index(loaded, svc.name, app)
    password = secret_value(loaded.project, svc, "password")
    host, port = svc.host, svc.ports["main"]
    if print_url:
        print(f"redis://default:{quote(password, safe='')}@{host}:{port}/{index}")
        return 0
    env = {**os.environ, "REDISCLI_AUTH": password}
    local = shutil.which("redis-cli")
    if local is not None:
        sys.stdout.flush()
        os.execve(local, [local, "-u", f"redis://{host}:{port}/{index}", *args], env)
    inner = ["redis-cli", "-n", str(index), *args]
    if not args:
        if not sys.stdin.isatty():
            raise ConfigError("redis-cli is not installed here: give the command to run as arguments (`omnitron infra redis-cli -- PING`)")
        argv = anyio.run(lambda: interactive_exec_argv(loaded.project, loaded.plan, svc, inner, env_names=("REDISCLI_AUTH",)))
        if argv is None:
            raise ProvisionError(f"redis-cli is not installed here and service {svc.name} runs with the {svc.provider} provider: install redis-tools, or give a command")
        sys.stdout.flush()
        os.execvpe(argv[0], argv, env)
    # `env` sets the password and execs redis-cli at once, so it never stays in an argument list
    result = anyio.run(lambda: exec_in_service(loaded.project, loaded.plan, svc, ["env", f"REDISCLI_AUTH={password}", *inner]))
    sys.stdout.write(result.output)
    return result.exit_code


def _app_service(plan, app: str, service: str | None) -> str:
    """The redis service holding ``app``'s DB index (its ``"redis"`` shorthand), so ``--app`` alone picks it."""
    from omnitron.api import ConfigError

    if app not in plan.apps:
        raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
    redis = {s.name for s in plan.services if s.preset == "redis"}
    found = [a.service for a in plan.apps[app].allocations if a.kind == "redis_db" and a.service in redis and service in (None, a.service)]
    if not found:
        raise ConfigError(f"app {app} has no redis DB index" + (f" on service {service}" if service else "") + ' (it declares no "redis" shorthand)')
    return found[0]


def _allocated_index(loaded, service: str, app: str) -> int:
    from omnitron.api import ConfigError, recorded_index

    index = recorded_index(loaded, service, app)
    if index is None:
        raise ConfigError(f"app {app} has no DB index on {service} yet: run `omnitron infra up` (or `omnitron run {app}`) first")
    return index
