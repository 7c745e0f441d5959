"""An app's side: its env, the gate before it starts, its migrations (``omnitron run``, ``infra env``, ``infra migrate``)."""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import ConfigError, ProvisionError
from ..providers import ProgressFn
from .loading import Stack


def require_app(stack: Stack, app: str) -> None:
    """A :class:`~omnitron.errors.ConfigError` listing the apps when ``app`` is not one of them."""
    if app not in stack.plan.apps:
        raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(stack.plan.apps)) or '(none)'}")


def app_env(stack: Stack, app: str, *, reveal: bool = False) -> dict[str, str]:
    """``app``'s env as ``omnitron run`` gives it, with recorded allocations; secrets ``****`` unless ``reveal``."""
    from ..engine.render import app_env as render
    from ..engine.session import Session

    require_app(stack, app)
    session = Session(stack.project, stack.plan)
    try:
        return render(session, app, reveal=reveal)
    finally:
        session.close()


async def prepare_app(stack: Stack, app: str, *, provision: bool = True, progress: ProgressFn | None = None, on_warning: Callable[[str], None] | None = None) -> dict[str, str]:
    """Bring up (or, without ``provision``, only wait for) ``app``'s services, then render its env with real secrets.

    Records the endpoints handed to ``app``: which services, which env names, when (for the phantom janitor),
    and where ``app`` is expected to listen (its declared ports, or the one allocated for it: ``PORT``); when
    that moved, the chores of the stack's running services run, so a gateway points at the new address.

    Non-critical services are best-effort: waited for no longer than the critical ones (a warning each).

    :raises ProvisionError: a critical service did not become healthy.
    """
    from ..engine.appports import ensure_app_ports, expected_endpoints
    from ..engine.gate import wait_services
    from ..engine.maintenance import maintain_running
    from ..engine.provision import up
    from ..engine.render import app_env as render
    from ..engine.session import Session

    require_app(stack, app)
    plan = stack.plan
    services = plan.services_for(app)
    async with Session(stack.project, plan, progress=progress) as session:
        allocated = ensure_app_ports(session, [app]).get(app, {})
        moved = session.state.record_app_endpoints(plan.stack, app, expected_endpoints(plan, app, allocated), source="expected")
        if provision:
            warnings = (await up(stack.project, plan, services=[s.name for s in services], apps=[app], session=session, best_effort=True)).warnings
        else:
            warnings = (await wait_services(session, services)).warnings
        if moved:  # services `up` did not just maintain may point at the app's old address
            warnings += await maintain_running(session, skip=tuple(s.name for s in services) if provision else ())
        for warning in warnings:
            if on_warning is not None:
                on_warning(warning)
        env = render(session, app)
        session.state.touch_endpoints(plan.stack, app, [s.name for s in services], handed_env(stack, app))
        return env


def handed_env(stack: Stack, app: str) -> dict[str, list[str]]:
    """Service -> names of the env vars ``app`` gets from it (what the endpoints record; never values)."""
    out: dict[str, list[str]] = {}
    for var, binding in stack.plan.apps[app].env.items():
        if binding.service:
            out.setdefault(binding.service, []).append(var)
    return out


def apps_to_migrate(stack: Stack, app: str | None = None) -> list[str]:
    """``[app]`` when it declares ``migrate`` (an error otherwise), or every app that does."""
    if app is None:
        return [name for name, a in stack.plan.apps.items() if a.migrate]
    require_app(stack, app)
    if not stack.plan.apps[app].migrate:
        raise ConfigError(f"app {app} declares no migrate command (\"migrate\" under \"omnitron\" in its config/default.json)")
    return [app]


async def migrate(stack: Stack, app: str, *, progress: ProgressFn | None = None, on_command: Callable[[list[str]], None] | None = None, env: dict[str, str] | None = None) -> None:
    """Run ``app``'s ``migrate`` command with its env (after the gate), in its directory, with this process's terminal.

    :param env: the app's env when the caller has just brought its services up (the gate is then skipped).

    :raises ProvisionError: the command is missing or exits non-zero.
    """
    import subprocess

    import anyio

    command = list(stack.plan.apps[app].migrate or [])
    env = env if env is not None else await prepare_app(stack, app, progress=progress)
    cwd = stack.plan.apps[app].path
    cwd = cwd if cwd and os.path.isdir(cwd) else None
    if on_command is not None:
        on_command(command)
    try:
        code = await anyio.to_thread.run_sync(lambda: subprocess.call(command, cwd=cwd, env={**os.environ, **env}))
    except FileNotFoundError:
        raise ProvisionError(f"app {app}: migrate command not found: {command[0]}") from None
    if code != 0:
        raise ProvisionError(f"app {app}: migrate command `{' '.join(command)}` exited with {code}")


def recorded_index(stack: Stack, service: str, app: str) -> int | None:
    """The index (a Redis DB) recorded for ``app`` on ``service``, or ``None`` before the first ``up``."""
    from ..state import StateStore

    require_app(stack, app)
    with StateStore(stack.project.state_dir) as state:
        return state.indexes(stack.plan.stack, service).get(app)
