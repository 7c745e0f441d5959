"""The stack an app's test session runs against: brought up once, kept open for per-test copies of its resources."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError


@dataclass
class ServiceInfo:
    """A running service as a test sees it: where it is and the env (URLs) it hands apps."""

    name: str
    preset: str | None
    host: str
    ports: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)
    """The service's own env, rendered (``{"DATABASE_URL": "postgresql://...:5432/postgres"}``)."""

    @property
    def url(self) -> str | None:
        """The first URL-looking value of :attr:`env`, if any."""
        return next((v for v in self.env.values() if "://" in v), None)


@dataclass
class Copy:
    """A resource of one test: a database cloned from the app's, a flushed Redis DB index."""

    app: str
    service: str
    values: dict[str, str]
    """``${alloc:...}`` values of the copy (``{"database": "orders_t3f2a"}``)."""
    env: dict[str, str]
    """The app's whole env pointing at the copy."""
    url: str | None
    """The value of the app's variable bound to the service (``DATABASE_URL``)."""
    bound: dict[str, str] = field(default_factory=dict)
    """The app's variables the copy changes (``{"DATABASE_URL": ...}``): set in the environment during the test."""
    request: Any = None

    @property
    def name(self) -> str:
        return self.values.get("database") or self.values.get("db") or self.values.get("bucket") or ""


def tests_path() -> str:
    """``PATH`` with the tests' interpreter first: a migration's ``python`` is the one running pytest (its venv, even when not activated)."""
    return os.pathsep.join([str(Path(sys.executable).parent), *filter(None, [os.environ.get("PATH")])])


class AppStack:
    """A project's stack brought up for a test session (``omnitron_stack``).

    ``apps`` is each app's env (as ``omnitron run`` gives it), ``services`` each
    service's address and URLs. Per-test copies (:meth:`fresh`) go through one
    event loop kept in a thread for the session, with one engine session open.
    """

    def __init__(self, stack: Any, *, keep: bool, durable: bool = False) -> None:
        self.stack = stack
        self.keep = keep
        self.durable = durable
        """Leave the servers' durability as configured (else a stack only tests use runs without fsync)."""
        self.apps: dict[str, dict[str, str]] = {}
        self.services: dict[str, ServiceInfo] = {}
        self._portal_cm: Any = None
        self._portal: Any = None
        self._session: Any = None
        self._drops: list[Any] = []
        """Copies being removed in the background, one at a time (a dropped database costs a checkpoint: no test waits for it)."""
        self._drop_gate: Any = None

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def project_dir(self) -> Path:
        return self.stack.project.root

    # -- the session ---------------------------------------------------------------

    def start(self) -> "AppStack":
        """Bring the stack up, run every app's migrations, read the envs; raise a one-line error when it fails."""
        from anyio.from_thread import start_blocking_portal

        from ..engine.session import Session
        from ..errors import ProvisionError
        from ..usecases import apps_to_migrate, bring_up, migrate

        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        result = self._portal.call(lambda: bring_up(self.stack))
        if not result.ok:
            raise ProvisionError(f"stack {self.name} did not come up: {result.error_message()}")
        self._session = Session(self.stack.project, self.stack.plan)
        self._portal.call(self._session.__aenter__)
        self._portal.call(self._read_envs)  # the engine session's state store lives in the portal's thread
        if not self.durable and self.name != self.stack.project.default_stack():
            self._portal.call(self._tune)
        for app in apps_to_migrate(self.stack):
            self._portal.call(lambda app=app: migrate(self.stack, app, env={**self.apps[app], "PATH": tests_path()}))
        return self

    async def _tune(self) -> None:
        for svc in self.stack.plan.services:
            preset = self.stack.project.plugins.presets.get(svc.preset or "")
            if preset is not None and self.stack.manages(svc.provider):
                await preset.tune_for_tests(self._session.handle(svc, await self._session.provider(svc.provider)))

    def stop(self) -> None:
        """Close the engine session; bring the stack down with its data unless ``keep``."""
        from ..usecases import bring_down

        if self._portal is None:
            return
        try:
            self._finish_drops(wait=self.keep)
            if self._session is not None:
                self._portal.call(self._session.__aexit__, None, None, None)
            if not self.keep:
                self._portal.call(lambda: bring_down(self.stack, volumes=True))
        finally:
            self._portal_cm.__exit__(None, None, None)
            self._portal = self._session = None

    async def _read_envs(self) -> None:
        from ..engine.render import app_env
        from ..plan import context_for

        session = self._session
        for name in self.stack.plan.apps:
            self.apps[name] = app_env(session, name)
        for svc in self.stack.plan.services:
            ctx = context_for(svc, app=None, alloc={}, secret=session.resolver, plan=session.plan, facts=session.facts())
            env = {k: session.renderer.render(v, ctx, variable=k) for k, v in svc.env.items()}
            self.services[svc.name] = ServiceInfo(svc.name, svc.preset, svc.host, dict(svc.ports), env)

    # -- per test -------------------------------------------------------------------

    def allocation(self, app: str, kind: str) -> Any:
        """``app``'s allocation of ``kind`` (``database``, ``redis_db``); a config error naming what the app has."""
        plan = self.stack.plan
        if app not in plan.apps:
            raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
        found = [a for a in plan.apps[app].allocations if a.kind == kind]
        if not found:
            has = ", ".join(sorted({a.kind for a in plan.apps[app].allocations})) or "none"
            raise ConfigError(f"app {app} has no {kind} allocation (it has: {has})")
        return found[0]

    def fresh(self, app: str, kind: str) -> Copy:
        """A copy of ``app``'s ``kind`` resource for one test, made by the service's preset (:meth:`~omnitron.presets.Preset.fresh_copy`)."""
        request = self.allocation(app, kind)
        return self._portal.call(self._fresh, app, request)

    def drop(self, copy: Copy) -> None:
        """Remove a test's copy in the background, one after the other."""
        self._drops.append(self._portal.start_task_soon(self._drop, copy))

    async def _drop(self, copy: Copy) -> None:
        import anyio

        if self._drop_gate is None:
            self._drop_gate = anyio.Semaphore(1)
        async with self._drop_gate:
            await self._preset_call(copy.request, "drop_copy", copy.values, None)

    def _finish_drops(self, *, wait: bool) -> None:
        """A kept stack is left clean: wait for every drop (the first failure is raised). A stack about to be
        brought down with its data needs none of them: those not done yet are cancelled."""
        import concurrent.futures

        drops, self._drops = self._drops, []
        if not wait:
            for future in drops:
                future.cancel()
            concurrent.futures.wait(drops)
            return
        errors = [exc for exc in (future.exception() for future in drops) if exc is not None]
        if errors:
            raise errors[0]

    async def _fresh(self, app: str, request: Any) -> Copy:
        recorded = self._session.allocations_for(app).get(request.service, {})
        values = await self._preset_call(request, "fresh_copy", recorded, f"t{secrets.token_hex(3)}")
        env, bound = self._env_with(app, request.service, values)
        return Copy(app, request.service, values, env, next(iter(bound.values()), None), bound, request=request)

    async def _preset_call(self, request: Any, method: str, values: dict[str, str], token: str | None) -> Any:
        svc = self.stack.plan.service(request.service)
        preset = self.stack.project.plugins.presets.get(svc.preset or "")
        if preset is None:
            raise ConfigError(f"service {svc.name} has no preset to copy {request.kind} {request.name} for a test")
        handle = self._session.handle(svc, await self._session.provider(svc.provider))
        if method == "fresh_copy":
            return {k: str(v) for k, v in (await preset.fresh_copy(handle, request, values, token)).items()}
        return await preset.drop_copy(handle, request, values)

    def _env_with(self, app: str, service: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        from ..env import render_app_env

        session = self._session
        allocations = session.allocations_for(app)
        allocations[service] = {**allocations.get(service, {}), **values}
        env = render_app_env(session.plan, app, session.renderer, secret=session.resolver, allocations=allocations, facts=session.facts())
        return env, {var: env[var] for var, b in session.plan.apps[app].env.items() if b.service == service}
