"""One stack the daemon keeps: its plan, reloaded when a file it was planned from changes, and its services' watches.

A config that no longer loads is reported once (a ``config-error`` event) and
the last good plan is set aside: no pass acts on the stack until the config
loads again (``config-fixed``), so running services stay untouched.
A file is digested before it is read, so a save made while the daemon loads
the config shows as a change at the next pass.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..digests import digest_files
from ..errors import OmnitronError
from .backoff import BackoffPolicy, ServiceWatch

if TYPE_CHECKING:
    from ..model import EcosystemConfig
    from ..plugins import PluginManager
    from ..project import Project
    from ..state import StateStore
    from ..usecases import Stack

log = logging.getLogger("omnitron.daemon")

LOAD_ROUNDS = 3
"""Loads of a plan at most, until every file it was made from was digested before it was read."""


class StackKeeper:
    """A stack of the project, as the daemon keeps it."""

    def __init__(self, root: Path, name: str, plugins: PluginManager) -> None:
        self.root = root
        self.name = name
        self.plugins = plugins
        self.stack: Stack | None = None
        self.ecosystem: EcosystemConfig | None = None
        """The last ecosystem that loaded (its intervals stay in force while the config is broken)."""
        self.files: dict[str, str] = {}
        self.error: str | None = None
        self.watches: dict[str, ServiceWatch] = {}
        self.reloaded = False
        """A new plan was loaded since the last pass: the next pass brings the whole stack up (new apps get their allocations)."""
        self.next_due = 0.0
        self.provider_errors: dict[str, str] = {}
        self.chore_errors: dict[str, str] = {}

    @property
    def interval(self) -> float:
        """Seconds between passes (the stack's ``reconcileInterval``, else the ecosystem's)."""
        eco = self.ecosystem
        if eco is None:
            return 30.0
        cfg = eco.stacks.get(self.name)
        ms = (cfg.reconcile_interval if cfg is not None else None) or eco.reconcile_interval
        return ms / 1000

    @property
    def backoff(self) -> BackoffPolicy:
        eco = self.ecosystem
        if eco is None:
            return BackoffPolicy()
        return BackoffPolicy(eco.reconcile_backoff / 1000, max(eco.reconcile_backoff, eco.reconcile_backoff_max) / 1000)

    @property
    def retention(self) -> float:
        """Seconds a phantom endpoint stays recorded."""
        eco = self.ecosystem
        if eco is None:
            return 86_400.0
        cfg = eco.stacks.get(self.name)
        ms = cfg.phantom_retention if cfg is not None and cfg.phantom_retention is not None else eco.phantom_retention
        return ms / 1000

    def watch(self, service: str) -> ServiceWatch:
        return self.watches.setdefault(service, ServiceWatch())

    def changed(self) -> bool:
        """Whether a file the plan was made from changed since (or no plan is loaded)."""
        return self.stack is None or digest_files(list(self.files)) != self.files

    def refresh(self, state: StateStore) -> bool:
        """Load the plan again when a file it was made from changed; ``True`` when a plan is usable.

        :param state: the project's state store, for the events.
        """
        if not self.changed():
            return True
        try:
            project, stack, before, after = self._load()
        except OmnitronError as exc:
            self._broken(state, str(exc))
            return False
        except Exception as exc:  # a plugin's planning bug must not stop the daemon
            self._broken(state, f"{type(exc).__name__}: {exc}")
            return False
        # a file edited while it was read keeps its digest from before the load, so the next pass loads again
        self.files = {path: before.get(path, digest) for path, digest in after.items()}
        first = self.stack is None and self.error is None
        if self.error is not None:
            state.record_event(self.name, "", "config-fixed", "the config loads again; reconciling resumes")
        elif not first:
            state.record_event(self.name, "", "config-reloaded", "a config file changed; the new plan is applied at this pass")
        self.reloaded = not first or self.reloaded
        self.error = None
        self.stack = stack
        self.ecosystem = project.loaded.ecosystem
        self.watches = {name: w for name, w in self.watches.items() if any(s.name == name for s in stack.plan.services)}
        return True

    def _load(self) -> tuple[Project, Stack, dict[str, str], dict[str, str]]:
        """The project and stack loaded now, with the digests of the files the plan was made from before and after.

        Each file is digested before it is read: an edit made while the plan
        is made (the config evaluated, the stack planned) then shows as a
        change. Which files a plan is made from (apps' configs, mounted files)
        is known only once it is made, so a load that read a file not
        digested before it is done again (at most :data:`LOAD_ROUNDS` times).
        """
        from ..project import Project
        from ..usecases import load_stack

        known = list(self.files)
        for _ in range(LOAD_ROUNDS):
            project = Project.discover(self.root, plugins=self.plugins)
            before = digest_files(list(dict.fromkeys([str(project.config_file), *known])))
            stack = load_stack(project, self.name)
            read = project.planned_from(stack.plan)
            if set(read) <= set(before):
                break
            known = read
        return project, stack, before, digest_files(read)

    def _broken(self, state: StateStore, message: str) -> None:
        if message != self.error:
            log.warning("stack %s: config does not load: %s", self.name, message)
            state.record_event(self.name, "", "config-error", f"{message}; running services are left as they are", {"error": message})
        self.error = message
        self.stack = None
        self.next_due = time.time() + min(self.interval, 5.0)
