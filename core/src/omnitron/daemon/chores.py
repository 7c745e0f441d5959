"""Presets' periodic chores: :meth:`~omnitron.presets.Preset.maintain` on every pass, and promptly when a watched path changes.

A preset names host paths in :meth:`~omnitron.presets.Preset.watched_paths`
(a gateway's config directory); :class:`PathWatcher` watches them
(``watchfiles``, imported only when some preset names a path) and runs
``maintain`` for the services concerned within a second of a change.
A chore that fails is reported once per distinct error (``maintain-error``)
and never stops the pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.session import Session
    from .keeper import StackKeeper
    from .observation import Observation

log = logging.getLogger("omnitron.daemon")

DEBOUNCE_MS = 150
"""A burst of changes (an editor's save) becomes one run of the chore."""


async def maintain_all(session: Session, keeper: StackKeeper, obs: Observation | None, only: set[str] | None = None) -> list[str]:
    """Run ``maintain`` of every running, healthy service that has a preset (or of those in ``only``); returns those run."""
    done: list[str] = []
    skip = {r.service for r in obs.repairs} | set(obs.unhealthy) if obs is not None else set()
    for svc in session.plan.services:
        preset = session.plugins.presets.get(svc.preset) if svc.preset else None
        if preset is None or svc.name in skip or (only is not None and svc.name not in only):
            continue
        if obs is not None and session.manages(svc.provider) and svc.name not in obs.states:
            continue
        try:
            provider = await session.provider(svc.provider)
            await preset.maintain(session.handle(svc, provider))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            if keeper.chore_errors.get(svc.name) != message:
                session.state.record_event(session.plan.stack, svc.name, "maintain-error", f"the {svc.preset} preset's chore failed: {message}")
                log.warning("stack %s: %s: maintain failed: %s", session.plan.stack, svc.name, message)
            keeper.chore_errors[svc.name] = message
            continue
        keeper.chore_errors.pop(svc.name, None)
        done.append(svc.name)
    return done


def watched(keeper: StackKeeper) -> dict[Path, set[str]]:
    """Host path -> services whose preset watches it, for the stack's current plan."""
    out: dict[Path, set[str]] = {}
    stack = keeper.stack
    if stack is None:
        return out
    presets = stack.project.plugins.presets
    for svc in stack.plan.services:
        preset = presets.get(svc.preset) if svc.preset else None
        if preset is None:
            continue
        try:
            paths = preset.watched_paths(svc)
        except Exception as exc:
            log.warning("stack %s: %s: watched_paths failed: %s", keeper.name, svc.name, exc)
            continue
        for path in paths:
            out.setdefault(Path(path).resolve(), set()).add(svc.name)
    return out


def affected(changes: set[str], paths: dict[Path, set[str]]) -> set[str]:
    """Services whose watched path is, or holds, a changed path."""
    hit: set[str] = set()
    for changed in changes:
        target = Path(changed)
        for path, services in paths.items():
            if target == path or path in target.parents:
                hit |= services
    return hit


class PathWatcher:
    """Watches what the kept stacks' presets name; calls ``on_change(stack, services)`` within about a second of a change."""

    def __init__(self, on_change: Callable[[str, set[str]], Awaitable[None]]) -> None:
        self.on_change = on_change
        self.paths: dict[str, dict[Path, set[str]]] = {}
        self._restart: Any = None
        """The ``anyio.Event`` that ends the current watch (set when the paths change)."""

    def update(self, keepers: list[StackKeeper]) -> None:
        """Watch what the keepers' plans name now (restarts the watch when that changed)."""
        wanted = {k.name: watched(k) for k in keepers}
        wanted = {k: v for k, v in wanted.items() if v}
        if wanted != self.paths:
            self.paths = wanted
            if self._restart is not None:
                self._restart.set()

    async def run(self) -> None:
        """Forever: watch the current paths; start over when they change."""
        import anyio

        while True:
            if not self.paths:
                await anyio.sleep(0.5)
                continue
            try:
                await self._watch_once()
            except Exception:  # a path gone while watched, a chore's bug: logged, and watching goes on
                log.exception("watching %s failed; trying again in 1 s", ", ".join(str(p) for s in self.paths.values() for p in s))
                await anyio.sleep(1.0)

    async def _watch_once(self) -> None:
        import anyio
        from watchfiles import awatch

        stop = anyio.Event()
        self._restart = stop
        roots = sorted({p if p.is_dir() else p.parent for stack in self.paths.values() for p in stack if p.exists() or p.parent.exists()})
        if not roots:
            with anyio.move_on_after(1.0):
                await stop.wait()
            return
        live = False
        async for changes in awatch(*roots, stop_event=stop, debounce=DEBOUNCE_MS, step=50, rust_timeout=500, yield_on_timeout=True):
            names = {path for _, path in changes}
            if not live:
                # the watch sees changes from now on; an edit made after the pass that last read these paths and
                # before now is invisible to it: the chores run once for every watched path (they are idempotent)
                live = True
                names |= {str(path) for paths in self.paths.values() for path in paths}
            if not names:
                continue
            for stack, paths in list(self.paths.items()):
                services = affected(names, paths)
                if services:
                    await self.on_change(stack, services)
