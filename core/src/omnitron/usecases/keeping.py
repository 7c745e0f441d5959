"""What the daemon keeps, shown and pruned: events, endpoints handed to apps, orphans (``infra events|endpoints|prune``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .loading import Stack

if TYPE_CHECKING:
    from ..project import Project
    from ..state import Endpoint, Event


def events_of(project: Project, stack: str | None, *, after: int = 0, limit: int | None = None, service: str | None = None) -> list[Event]:
    """Events recorded for ``stack`` (every stack when ``None``), oldest first."""
    if not (project.state_dir / "state.db").exists():
        return []
    from ..state import StateStore

    with StateStore(project.state_dir) as state:
        return state.events(stack, after=after, limit=limit, service=service)


def endpoints_of(stack: Stack) -> list[Endpoint]:
    """Endpoints handed to apps of ``stack`` (``live`` or ``phantom``)."""
    if not (stack.project.state_dir / "state.db").exists():
        return []
    from ..state import StateStore

    with StateStore(stack.project.state_dir) as state:
        return state.endpoints(stack.name)


@dataclass
class PruneResult:
    phantoms: list[dict[str, Any]] = field(default_factory=list)
    orphans: dict[str, str] = field(default_factory=dict)
    """Service -> provider of what runs but is not in the plan."""
    removed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"phantoms": self.phantoms, "orphans": self.orphans, "removed": self.removed}


async def prune(stack: Stack, *, phantoms: bool = False, orphans: bool = False) -> PruneResult:
    """What could be pruned, and with ``phantoms`` / ``orphans`` remove it: phantom endpoints now, orphaned services (data kept)."""
    from ..engine.locking import locked
    from ..engine.session import Session
    from ..engine.teardown import managed_providers, remove_orphans

    result = PruneResult()
    async with Session(stack.project, stack.plan) as session:
        async with locked(stack.project, session.progress):
            found = [e for e in session.state.endpoints(stack.name) if e.phantom_since is not None]
            result.phantoms = [e.as_json() for e in found]
            planned = {s.name for s in stack.plan.services}
            for pname, provider in (await managed_providers(session)).items():
                try:
                    result.orphans.update({n: pname for n in await provider.list_managed() if n not in planned})
                except Exception:
                    continue
            if phantoms and found:
                session.state.drop_endpoints(stack.name, found)
                for e in found:
                    session.state.record_event(stack.name, e.service, "drop-phantom", f"phantom endpoint of {e.app} dropped by infra prune", {"app": e.app})
            if orphans and result.orphans:
                await remove_orphans(session, source="infra prune")
            result.removed = (phantoms and bool(found)) or (orphans and bool(result.orphans))
    return result
