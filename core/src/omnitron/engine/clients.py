"""Helpers for client shells of presets (``infra psql``, ``infra redis-cli``).

A client runs locally when its binary is on PATH (connection details from the
plan, the password from the secret store at run time, passed through the
environment, never on the command line). Otherwise it runs where the service
runs: interactively through the argv the service's provider gives
(:meth:`~omnitron.providers.Provider.interactive_argv`, e.g. ``docker exec -it``
on the container it finds by its labels), or, for a one-off command, through
the provider's ``exec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError, ProvisionError

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..project import Project
    from ..providers import ExecResult


def pick_service(plan: Plan, preset: str | tuple[str, ...], wanted: str | None = None) -> PlannedService:
    """The one service of ``preset`` (or of any of several presets) in the plan, or the one named ``wanted``."""
    presets = (preset,) if isinstance(preset, str) else tuple(preset)
    kind = "/".join(presets)
    candidates = [s for s in plan.services if s.preset in presets]
    if wanted is not None:
        for svc in candidates:
            if svc.name == wanted:
                return svc
        raise ConfigError(f"no {kind} service named {wanted!r} in stack {plan.stack}; {kind} services: {', '.join(s.name for s in candidates) or '(none)'}")
    if not candidates:
        raise ConfigError(f"stack {plan.stack} has no {kind} service")
    if len(candidates) > 1:
        raise ConfigError(f"stack {plan.stack} has several {kind} services ({', '.join(s.name for s in candidates)}): choose one with --service")
    return candidates[0]


def secret_value(project: Project, svc: PlannedService, logical: str) -> str:
    """The value of ``svc``'s secret ``logical``, read from the store now."""
    from ..secrets.resolve import resolver_for

    key = svc.secrets.get(logical)
    if key is None:
        raise ConfigError(f"service {svc.name} declares no secret {logical!r}")
    try:
        return resolver_for(project)(key)
    except LookupError as exc:
        raise ProvisionError(f"service {svc.name}: {exc.args[0] if exc.args else exc} (has `omnitron infra up` run?)") from None


async def exec_in_service(project: Project, plan: Plan, svc: PlannedService, command: list[str], *, input: bytes | None = None) -> ExecResult:
    """Run ``command`` where ``svc`` runs, through its provider (``input`` on its stdin)."""
    from .session import Session

    async with Session(project, plan) as session:
        provider = await session.provider(svc.provider)
        if input is None:
            return await provider.exec(svc.name, command)
        return await provider.exec(svc.name, command, input=input)


async def interactive_exec_argv(project: Project, plan: Plan, svc: PlannedService, command: list[str], *, env_names: tuple[str, ...] = ()) -> list[str] | None:
    """An argv running ``command`` interactively where ``svc`` runs (``docker exec -it CONTAINER ...``), or ``None`` when its provider cannot.

    The provider finds the service by its identity (a container by its labels).
    ``env_names`` are passed by name only, so their values come from this
    process's environment and never appear in an argument list.
    """
    from .session import Session

    async with Session(project, plan) as session:
        provider = await session.provider(svc.provider)
        return await provider.interactive_argv(svc.name, command, env_names=env_names)
