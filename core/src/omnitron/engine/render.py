"""Rendering with real secrets: a service's own runtime (container env, command) and an app's env.

Values rendered here hold secrets: they live in memory, go to the provider or
the child process, and are never written anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..planner import context_for
from ..providers import RuntimeSpec

if TYPE_CHECKING:
    from ..plan import PlannedService
    from .session import Session


def runtime_spec(session: Session, svc: PlannedService) -> RuntimeSpec:
    """``svc`` with its container/process env and command rendered (``${secret:...}`` resolved)."""
    source = svc.docker if svc.provider == "docker" else svc.process if svc.provider == "process" else None
    if source is None or (not source.env and not source.command):
        return RuntimeSpec(service=svc)
    ctx = context_for(svc, app=None, alloc={}, secret=session.resolver, plan=session.plan, facts=session.facts())
    render = session.renderer.render
    env = {key: render(value, ctx, variable=key) for key, value in source.env.items()}
    command = [render(arg, ctx, variable=f"command[{i}]") for i, arg in enumerate(source.command)] if source.command else None
    return RuntimeSpec(service=svc, env=env, command=command)


def app_env(session: Session, app: str, *, reveal: bool = True) -> dict[str, str]:
    """``app``'s env vars with allocations from the state store; secrets real unless ``reveal`` is false."""
    from ..env import render_app_env

    return render_app_env(
        session.plan,
        app,
        session.renderer,
        secret=session.resolver if reveal else None,
        allocations=session.allocations_for(app),
        mask_secrets=not reveal,
        facts=session.facts(),
    )
