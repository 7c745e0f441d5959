"""``status`` and ``logs``: what runs, whether it is healthy, what it printed."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import ConfigError, ProvisionError
from ..providers import Allocation, ContainerState, InfrastructureState
from ..tasks import task_group

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..project import Project
    from .session import Session

STATUS_PROBE_TIMEOUT = 5.0
"""Upper bound of one probe attempt in ``status`` (it probes once, it does not wait)."""


async def status(
    project: Project, plan: Plan, *, probe: bool = True, healthy: Mapping[str, str | None] | None = None, session: Session | None = None
) -> InfrastructureState:
    """Every planned service's state (and orphans still running), probed once for health, and what is allocated on them.

    ``ready`` is true when every critical service is running and healthy.

    :param healthy: services the caller's probes found healthy a moment ago (name -> the probe's note,
        see :attr:`~omnitron.health.ProbeResult.note`): healthy when they run, without a probe of their own.
    """
    from .session import Session

    if session is None:
        async with Session(project, plan) as own:
            return await status(project, plan, probe=probe, healthy=healthy, session=own)
    managed, errors = await _inventory(session)
    states: dict[str, ContainerState] = {}

    async def one(svc: PlannedService) -> None:
        states[svc.name] = await _service_state(session, svc, managed, errors, probe=probe, healthy=healthy or {})

    async with task_group() as tg:
        for svc in plan.services:
            tg.start_soon(one, svc)
    ordered = {svc.name: states[svc.name] for svc in plan.services}
    for name, st in sorted(managed.items()):
        ordered[name] = st.model_copy(update={"error": "not in the plan (orphan): `omnitron infra down` removes it"})
    for name, dependency in session.state.waiting(plan.stack).items():
        if name in ordered and name in states:
            ordered[name] = _noted(ordered[name], f"waiting for {dependency} (restarted by the reconciler)").model_copy(update={"waiting_for": dependency})
    ready = all(ordered[s.name].status == "running" and ordered[s.name].health in ("healthy", None) and not ordered[s.name].waiting_for for s in plan.services if s.critical)
    last = session.state.last_reconciled(plan.stack)
    stamp = _dt.datetime.fromtimestamp(last, _dt.timezone.utc).isoformat(timespec="seconds") if last else None
    allocations = [Allocation.model_validate(row) for row in session.state.allocations(plan.stack)]
    return InfrastructureState(services=ordered, ready=ready, last_reconciled=stamp, allocations=allocations)


async def _inventory(session: Session) -> tuple[dict[str, ContainerState], dict[str, str]]:
    """What every provider that may hold something of the stack manages, and the providers that could not say."""
    from .teardown import managed_providers

    managed: dict[str, ContainerState] = {}
    errors: dict[str, str] = {}
    for pname, provider in (await managed_providers(session)).items():
        try:
            for name, st in (await provider.list_managed()).items():
                managed[name] = st.model_copy(update={"provider": st.provider or pname})
        except Exception as exc:
            errors[pname] = f"{type(exc).__name__}: {exc}"
    return managed, errors


async def _service_state(
    session: Session, svc: PlannedService, managed: dict[str, ContainerState], errors: dict[str, str], *, probe: bool, healthy: Mapping[str, str | None]
) -> ContainerState:
    """One planned service's state (taken out of ``managed``), probed once when it runs (unless ``healthy`` names it)."""
    from .gate import check_once, checks_for
    from .render import runtime_spec

    provider = None
    if svc.provider in errors:
        st = ContainerState(name=svc.name, provider=svc.provider, error=f"{svc.provider} provider: {errors[svc.provider]}")
    elif not session.manages(svc.provider):
        try:
            provider = await session.provider(svc.provider)
            st = await provider.observe(runtime_spec(session, svc))
        except Exception as exc:
            provider = None
            st = ContainerState(name=svc.name, provider=svc.provider, error=str(exc))
    else:
        st = managed.pop(svc.name, None) or ContainerState(name=svc.name, provider=svc.provider)
        if st.status == "running":
            provider = await session.provider(svc.provider)
    if svc.name in healthy and provider is not None and st.status == "running":
        st = st.model_copy(update={"health": "healthy", "error": None, "note": healthy[svc.name]})
    elif probe and provider is not None and st.status == "running":
        hc = svc.health_check
        timeout = min(STATUS_PROBE_TIMEOUT, (hc.timeout if hc else 10_000) / 1000)
        target = svc.model_copy(update={"host": st.host, "ports": {**svc.ports, **(st.ports or {})}}) if st.host else svc
        result = await check_once(session.handle(target, provider), checks_for(svc, session.plugins.probes), timeout)
        st = st.model_copy(update={"health": "healthy" if result.ok else "unhealthy", "error": None if result.ok else result.detail, "note": result.note if result.ok else None})
    if st.provider and st.provider != svc.provider and st.status != "not_found":
        return _noted(st, f"runs with the {st.provider} provider, the plan says {svc.provider} (pass --provider {st.provider})")
    if st.spec_hash and svc.spec_hash and st.spec_hash != svc.spec_hash and st.status != "not_found":
        return _noted(st, "differs from the plan: `omnitron infra up` recreates it")
    if st.host and (st.host, {**svc.ports, **(st.ports or {})}) != (svc.host, svc.ports):
        return _noted(st, f"apps were handed {svc.host}:{_ports(svc.ports)}: `omnitron infra up` hands them {st.host}:{_ports(st.ports or {})}")
    return st


def _ports(ports: dict[str, int]) -> str:
    return ",".join(str(p) for p in ports.values())


def _noted(st: ContainerState, note: str) -> ContainerState:
    return st.model_copy(update={"error": (st.error + "; " if st.error else "") + note})


async def logs(session: Session, service: str | None, *, follow: bool, tail: int | None, write: Callable[[str], None]) -> None:
    """Write log lines of one service, or of every managed service prefixed by its name."""
    plan = session.plan
    if service is not None:
        try:
            svc = plan.service(service)
        except KeyError:
            raise ConfigError(f"no service named {service!r} in stack {plan.stack}; services: {', '.join(s.name for s in plan.services) or '(none)'}") from None
        targets = [svc]
    else:
        targets = [s for s in plan.services if session.manages(s.provider)]
        if not targets:
            raise ProvisionError("no service of this stack has logs omnitron can read (all are external)")
    width = max(len(s.name) for s in targets)

    async def one(svc: PlannedService) -> None:
        provider = await session.provider(svc.provider)
        prefix = "" if len(targets) == 1 else f"{svc.name.ljust(width)} | "
        async for line in provider.logs(svc.name, follow=follow, tail=tail):
            write(prefix + line.rstrip("\n"))

    async with task_group() as tg:
        for svc in targets:
            tg.start_soon(one, svc)
