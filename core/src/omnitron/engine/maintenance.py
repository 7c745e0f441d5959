"""Presets' periodic chore (:meth:`~omnitron.presets.Preset.maintain`) and the config digest a service last applied.

``maintain`` is where a preset applies to the running service what changed
without recreating it: a gateway regenerates its upstream map, validates its
config and reloads. It runs on every ``infra up`` (after the service is
prepared and its allocations are made), after ``omnitron run`` records a new
address of an app (:func:`maintain_running`), and in the daemon.

The plan's config digest of a service (the config its preset reloads, see
:mod:`omnitron.planner.hashing`) is recorded once ``maintain`` returned: a
digest that differs from the recorded one means a changed config reached
the service by a reload, not by recreating it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plan import PlannedService
    from ..presets import Preset
    from ..runtime import ServiceHandle
    from .session import Session

APPLIED_SETTING = "config-digest/"
"""Prefix of the per-stack setting holding the config digest a service last applied (``config-digest/<service>``)."""


def applied_config(session: Session, service: str) -> str | None:
    """The config digest ``service`` last applied in this stack, or ``None``."""
    return session.state.get_setting(session.plan.stack, APPLIED_SETTING + service)


async def maintain_one(session: Session, svc: PlannedService, preset: Preset, handle: ServiceHandle) -> None:
    """Run ``preset.maintain`` for ``svc``; on success, record the config digest it now runs with."""
    applied = applied_config(session, svc.name)
    if svc.config_digest and applied is not None and applied != svc.config_digest:
        session.progress(svc.name, "preparing", "its config changed: applying it without a restart")
        session.state.log_event(session.plan.stack, "reload", f"{svc.name}: config {applied} -> {svc.config_digest}")
    await preset.maintain(handle)
    if svc.config_digest and applied != svc.config_digest:
        session.state.set_setting(session.plan.stack, APPLIED_SETTING + svc.name, svc.config_digest)


async def maintain_running(session: Session, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Run the chore of every running service of the stack whose preset has one (those in ``skip`` aside).

    Takes the project lock. A service whose chore fails is reported, one line
    each, and the others still run.

    :returns: what failed, one line per service.
    """
    from ..errors import OmnitronError
    from .locking import locked

    problems: list[str] = []
    async with locked(session.project, session.progress):
        running = await _running(session)
        for svc in session.plan.services:
            preset = session.plugins.presets.get(svc.preset) if svc.preset else None
            if preset is None or svc.name in skip or svc.name not in running:
                continue
            provider = await session.provider(svc.provider)
            try:
                await maintain_one(session, svc, preset, session.handle(svc, provider))
            except OmnitronError as exc:
                problems.append(str(exc) if svc.name in str(exc) else f"service {svc.name}: {exc}")
            except Exception as exc:  # one service's chore must not stop the others'
                problems.append(f"service {svc.name}: {type(exc).__name__}: {exc}")
    return problems


async def _running(session: Session) -> set[str]:
    """Names of the stack's services their managing providers report running."""
    names: set[str] = set()
    for provider_name in sorted({s.provider for s in session.plan.services if session.manages(s.provider)}):
        provider = await session.provider(provider_name)
        try:
            managed = await provider.list_managed()
        except Exception:  # cannot tell: leave its services alone
            continue
        names.update(name for name, state in managed.items() if state.status == "running")
    return names
