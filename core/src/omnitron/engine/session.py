"""A session: everything one command needs to act on a project's stack.

It opens the state store, the secret resolver and provider instances on
demand, and closes them when the ``async with`` block ends. Nothing is
opened that the command does not use, which keeps the no-op paths fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import ProvisionError
from ..providers import ProgressFn, ProviderContext
from ..runtime import ServiceHandle
from .select import provider_class

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..project import Project
    from ..providers import Provider
    from ..state import StateStore
    from ..templating import Renderer


def _nothing(service: str, phase: str, detail: str = "") -> None:
    return None


class Session:
    """One project + stack + plan, with lazily opened resources.

    :param progress: receives ``(service, phase, detail)`` from the engine and providers.
    """

    def __init__(self, project: Project, plan: Plan, *, progress: ProgressFn | None = None) -> None:
        self.project = project
        self.plan = plan
        self.plugins = project.plugins
        self.progress: ProgressFn = progress or _nothing
        self._providers: dict[str, Provider] = {}
        self._stack = contextlib.AsyncExitStack()
        self._state: StateStore | None = None
        self._lock: Any = None
        self.head_starts: Any = None
        """The services a head start made run before this ``up``, and the offers it collects (:mod:`.head_start`)."""

    async def __aenter__(self) -> "Session":
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._stack.__aexit__(*exc)
        finally:
            self._providers.clear()
            self.close()

    def close(self) -> None:
        """Close the synchronous resources (the state store); providers close with ``async with``."""
        if self._state is not None:
            self._state.close()
            self._state = None

    # -- shared resources ---------------------------------------------------

    @property
    def state(self) -> StateStore:
        if self._state is None:
            from ..state import StateStore

            self._state = StateStore(self.project.state_dir)
        return self._state

    @cached_property
    def renderer(self) -> Renderer:
        from ..templating import Renderer

        return Renderer(self.plugins.template_functions)

    def manages(self, provider: str) -> bool:
        """Whether omnitron runs what ``provider`` provides (``False`` for external servers and unknown providers)."""
        return provider in self.plugins.providers and self.plugins.providers[provider].manages_lifecycle

    @cached_property
    def resolver(self) -> Callable[[str], str]:
        """Secret store key -> value (raises :class:`LookupError` when not set)."""
        from ..secrets.resolve import resolver_for

        return resolver_for(self.project)

    def ensure_generated(self) -> Any:
        """Generate credentials the plan needs and the store lacks (first provision)."""
        from ..secrets.generate import ensure_generated
        from ..secrets.resolve import backend_for

        created = ensure_generated(backend_for(self.project), self.plan)
        if created:
            self.__dict__.pop("resolver", None)  # read the new values
        return created

    async def provider(self, name: str) -> Provider:
        """The session's instance of provider ``name`` (created on first use, once)."""
        if name in self._providers:
            return self._providers[name]
        if self._lock is None:
            import anyio

            self._lock = anyio.Lock()
        async with self._lock:
            if name not in self._providers:
                self._providers[name] = await self._open_provider(name)
        return self._providers[name]

    async def _open_provider(self, name: str) -> Provider:
        svc = next((s for s in self.plan.services if s.provider == name), None)
        cls = provider_class(self.plugins, svc) if svc is not None else self.plugins.providers.get(name)
        if cls is None:
            from ..install_hints import provider_package

            raise ProvisionError(f"the {name} provider is not installed: pip install {provider_package(name) or name}")
        ctx = ProviderContext(
            project=self.plan.project,
            stack=self.plan.stack,
            project_dir=self.project.root,
            state_dir=self.project.stack_dir(self.plan.stack),
            progress=self.progress,
            state=self.state,
            plugins=self.plugins,
        )
        instance = cls(ctx)
        await self._stack.enter_async_context(instance)
        return instance

    # -- per service -----------------------------------------------------------

    def secret_of(self, svc: PlannedService) -> Callable[[str], str]:
        """Logical secret name of ``svc`` -> value."""

        def secret(logical: str) -> str:
            key = svc.secrets.get(logical)
            if key is None:
                raise LookupError(f"service {svc.name} declares no secret {logical!r}; declared: {', '.join(sorted(svc.secrets)) or '(none)'}")
            return self.resolver(key)

        return secret

    def handle(self, svc: PlannedService, provider: Provider) -> ServiceHandle:
        """What presets and probes see of ``svc`` running under ``provider`` (``exec`` runs through ``provider.exec``)."""

        async def exec_(command: list[str], *, input: bytes | None = None, timeout: float | None = None) -> Any:
            if input is None and timeout is None:
                return await provider.exec(svc.name, command)
            return await provider.exec(svc.name, command, timeout=timeout, input=input)

        return ServiceHandle(
            service=svc,
            project=self.plan.project,
            stack=self.plan.stack,
            host=svc.host,
            ports=dict(svc.ports),
            secret=self.secret_of(svc),
            exec=exec_,
            state=self.state,
            log=lambda msg: self.progress(svc.name, "preparing", msg),
            redis_db_offset=self.plan.redis_db_offset,
            plan=self.plan,
            provider=provider,
            resolve=lambda key: self.resolver(key),
        )

    def facts(self) -> dict[str, dict[str, str]]:
        """Service -> facts recorded for this stack (read now: ``up`` records new ones)."""
        return self.state.facts(self.plan.stack)

    def allocations_for(self, app: str) -> dict[str, dict[str, str]]:
        """Service -> ``${alloc:KEY}`` values recorded for ``app`` in this stack."""
        planned = self.plan.apps[app].allocations if app in self.plan.apps else ()
        return self.state.app_allocations(self.plan.stack, app, planned)
