"""The phantom endpoint janitor: endpoints handed to apps that the config no longer declares.

``omnitron run`` records which services' env (and which env names) it handed
an app, and when (:mod:`omnitron.state.endpoints`). On every pass the janitor
marks an endpoint *phantom* when its app is no longer declared, or no longer
uses that service; it drops phantoms older than the retention window
(``phantomRetention``, 24 h by default). Containers and data are never
touched here: ``omnitron infra prune`` removes what it is asked to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.session import Session
    from ..plan import Plan
    from ..state import Endpoint
    from .keeper import StackKeeper

log = logging.getLogger("omnitron.daemon")


def live_endpoints(plan: Plan) -> set[tuple[str, str]]:
    """``(app, service)`` for every service each declared app uses."""
    return {(app, svc.name) for app in plan.apps for svc in plan.services_for(app)}


def why_phantom(plan: Plan, endpoint: Endpoint) -> str:
    if endpoint.app not in plan.apps:
        return f"app {endpoint.app} is no longer declared"
    return f"app {endpoint.app} no longer uses {endpoint.service}"


def sweep(session: Session, keeper: StackKeeper) -> tuple[list[Endpoint], list[Endpoint]]:
    """Mark new phantoms, drop those past the retention window; each one an event. Returns ``(marked, dropped)``."""
    plan = session.plan
    state = session.state
    marked = state.mark_phantoms(plan.stack, live_endpoints(plan))
    for e in marked:
        state.record_event(plan.stack, e.service, "phantom", f"endpoint of {e.app} marked phantom: {why_phantom(plan, e)}", {"app": e.app, "env": list(e.env)})
    dropped = state.drop_phantoms(plan.stack, older_than=keeper.retention)
    for e in dropped:
        state.record_event(plan.stack, e.service, "drop-phantom", f"phantom endpoint of {e.app} dropped after the retention window of {keeper.retention:g}s", {"app": e.app})
    if marked or dropped:
        log.info("stack %s: janitor: %d marked phantom, %d dropped", plan.stack, len(marked), len(dropped))
    return marked, dropped
