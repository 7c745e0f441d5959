"""The daemon's state and loop: the stacks it keeps, the lock that serialises its own work, a pass when one is due."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..digests import env_fingerprint
from ..errors import OmnitronError
from .keeper import StackKeeper
from .paths import files_of

if TYPE_CHECKING:
    from ..plugins import PluginManager
    from ..state import StateStore
    from .reconcile import PassResult

log = logging.getLogger("omnitron.daemon")


class Daemon:
    """The daemon's state: the stacks it keeps and the lock that serialises its own work."""

    def __init__(self, root: Path, plugins: PluginManager) -> None:
        self.root = root
        self.files = files_of(root)
        self.plugins = plugins
        self.keepers: dict[str, StackKeeper] = {}
        self.work = asyncio.Lock()
        self.kick = asyncio.Event()
        self.stopping = asyncio.Event()
        self.started = time.time()
        self.fingerprint = env_fingerprint()
        self.last: dict[str, PassResult] = {}

    def state(self) -> StateStore:
        from ..state import StateStore

        return StateStore(self.files.state_dir)

    def kept(self) -> list[str]:
        with self.state() as state:
            return state.kept_stacks()

    def default_stack(self) -> str:
        for keeper in self.keepers.values():
            if keeper.ecosystem is not None:
                return keeper.ecosystem.default_stack
        from ..project import Project

        return Project.discover(self.root, plugins=self.plugins).default_stack()

    def declared_stacks(self) -> set[str]:
        """The stacks the project's config declares now (``set()`` when it does not load)."""
        from ..project import Project

        try:
            return set(Project.discover(self.root, plugins=self.plugins).loaded.ecosystem.stacks)
        except OmnitronError:
            return set()

    def keeper(self, name: str) -> StackKeeper:
        if name not in self.keepers:
            self.keepers[name] = StackKeeper(self.root, name, self.plugins)
        return self.keepers[name]

    def sync_keepers(self) -> list[StackKeeper]:
        """A keeper for every stack the project keeps now (those no longer kept are dropped)."""
        kept = self.kept()
        for name in list(self.keepers):
            if name not in kept:
                del self.keepers[name]
        return [self.keeper(name) for name in kept]

    async def run_pass(self, keeper: StackKeeper, *, source: str = "tick") -> PassResult:
        """One pass over ``keeper``'s stack, under the daemon's work lock and the project lock (skipped when a command holds it)."""
        from ..state.lock import acquire_fd, holding
        from .reconcile import PassResult, run_pass

        async with self.work:
            with self.state() as state:
                usable = keeper.refresh(state)
            if not usable:
                return PassResult(keeper.name, skipped=f"config error: {keeper.error}")
            try:
                fd = acquire_fd(self.files.state_dir, wait=False)
            except OmnitronError:
                keeper.next_due = time.time() + 1.0
                return PassResult(keeper.name, skipped="another omnitron command holds the project lock")
            with holding(self.files.state_dir, fd):
                with self.state() as state:
                    if not state.is_kept(keeper.name):
                        return PassResult(keeper.name, skipped="the stack is no longer kept (infra down)")
                try:
                    result = await run_pass(keeper, source=source)
                except Exception as exc:  # never let one pass take the daemon down
                    log.exception("stack %s: pass failed", keeper.name)
                    with self.state() as state:
                        state.record_event(keeper.name, "", "pass-error", f"the pass stopped: {type(exc).__name__}: {exc}")
                    result = PassResult(keeper.name, skipped=f"error: {type(exc).__name__}: {exc}")
            keeper.next_due = time.time() + keeper.interval
            self.last[keeper.name] = result
            return result

    async def loop(self, watcher: Any) -> None:
        """Forever: pass over every kept stack when it is due (or when kicked), then sleep until the next one is."""
        while True:
            self.kick.clear()
            if not (self.root / "omnitron.config.py").exists() and not (self.root / "omnitron.toml").exists() and not (self.files.state_dir / "state.db").exists():
                log.warning("the project at %s is gone: stopping", self.root)
                self.stopping.set()
                return
            try:
                due = await self._tick(watcher)
            except Exception:  # the state store busy, a plugin's bug: logged, and the loop goes on
                log.exception("the reconcile loop failed; trying again in 1 s")
                due = time.time() + 1.0
            try:
                await asyncio.wait_for(self.kick.wait(), timeout=max(0.05, due - time.time()))
            except asyncio.TimeoutError:
                pass

    async def _tick(self, watcher: Any) -> float:
        """A pass over every kept stack that is due; returns when the next one is."""
        keepers = self.sync_keepers()
        now = time.time()
        for keeper in keepers:
            if keeper.next_due <= now:
                await self.run_pass(keeper)
        watcher.update(keepers)
        return min((k.next_due for k in keepers), default=time.time() + 5.0)

    async def chores_for(self, stack: str, services: set[str]) -> None:
        """Run ``maintain`` for ``services`` of ``stack`` now (a watched path changed).

        Under the project lock like a pass; when a command holds it, the chore
        waits for the next pass (which runs every preset's ``maintain``), due within a second.
        """
        from ..engine.session import Session
        from ..state.lock import acquire_fd, holding
        from .chores import maintain_all

        keeper = self.keepers.get(stack)
        if keeper is None or keeper.stack is None:
            return
        async with self.work:
            try:
                fd = acquire_fd(self.files.state_dir, wait=False)
            except OmnitronError:
                keeper.next_due = min(keeper.next_due, time.time() + 1.0)
                self.kick.set()
                return
            with holding(self.files.state_dir, fd):
                async with Session(keeper.stack.project, keeper.stack.plan) as session:
                    done = await maintain_all(session, keeper, None, only=services)
        if done:
            with self.state() as state:
                state.record_event(stack, ",".join(sorted(done)), "maintain", "a watched path changed")
