"""The fast gate of ``omnitron run APP``: the app's env at once when its services are ready now, else a 409.

Ready now means: each service the app uses that omnitron runs is running
with the planned spec hash, is not re-gated (waiting for a dependency) or
failing its probes, every allocation the app needs is recorded, and the gate
passes within :data:`GATE_WITHIN` seconds. Then the env comes from the same
use case as the command line (:func:`~omnitron.usecases.prepare_app`, which
records the endpoints). Anything else is for the full ``omnitron run``, which
waits and provisions with progress.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .problem import Problem

if TYPE_CHECKING:
    from .keeper import StackKeeper

GATE_WITHIN = 1.0


async def fast_env(keeper: StackKeeper, app: str) -> dict[str, Any]:
    import anyio

    from ..engine.session import Session
    from ..usecases import prepare_app

    stack = keeper.stack
    assert stack is not None
    plan = stack.plan
    if app not in plan.apps:
        raise Problem(404, f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
    async with Session(stack.project, plan) as session:
        problem = await not_ready(session, keeper, app)
    if problem is not None:
        raise Problem(409, problem)
    env: dict[str, str] | None = None
    with anyio.move_on_after(GATE_WITHIN):
        env = await prepare_app(stack, app, provision=False)
    if env is None:
        raise Problem(409, f"the services of {app} did not pass the gate within {GATE_WITHIN:g}s")
    ref = plan.apps[app]
    return {"env": env, "command": list(ref.command or []), "cwd": ref.path if ref.path and os.path.isdir(ref.path) else None}


async def not_ready(session: Any, keeper: StackKeeper, app: str) -> str | None:
    """Why ``app`` cannot be handed its env at once, or ``None``."""
    plan = session.plan
    services = plan.services_for(app)
    waiting = session.state.waiting(plan.stack)
    listed: dict[str, dict[str, Any]] = {}
    for svc in services:
        if not session.manages(svc.provider):
            continue
        if svc.provider not in listed:
            try:
                listed[svc.provider] = await (await session.provider(svc.provider)).list_managed()
            except Exception as exc:
                return f"the {svc.provider} provider does not answer: {exc}"
        st = listed[svc.provider].get(svc.name)
        if st is None or st.status != "running":
            return f"{svc.name} is {st.status if st else 'not running'}"
        if st.spec_hash and svc.spec_hash and st.spec_hash != svc.spec_hash:
            return f"{svc.name} differs from the plan"
        if svc.name in waiting:
            return f"{svc.name} waits for {waiting[svc.name]}"
        if keeper.watch(svc.name).unhealthy:
            return f"{svc.name} failed its last probe"
    for request in plan.apps[app].allocations:
        if session.state.get_allocation(plan.stack, request.service, request.kind, request.name) is None:
            return f"{request.kind} {request.name} on {request.service} is not allocated yet"
    return None
