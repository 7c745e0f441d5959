"""Allocations a preset makes in a ready service for the apps that use it (a database, a Redis DB index, a bucket),
recorded in the state store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import AllocationRequest, PlannedService
    from .session import Session


async def allocate_all(session: Session, svc: PlannedService, preset: Any, handle: Any, requests: list[AllocationRequest], outcome: Any) -> None:
    """Each request allocated and recorded: one after the other, or all at once when the preset allows
    (:attr:`~omnitron.presets.Preset.concurrent_allocations`); then the first failure, in request order, is raised.
    ``outcome`` (the service's :class:`~.provision.ServiceOutcome`) gets each app's values."""
    import anyio

    async def one(request: AllocationRequest) -> None:
        session.progress(svc.name, "preparing", f"{request.kind} {request.name} for {request.app}")
        values = {k: str(v) for k, v in (await preset.allocate(handle, request)).items()}
        record_allocation(session, svc, request, values)
        outcome.allocations[request.app] = values

    if not preset.concurrent_allocations or len(requests) < 2:
        for request in requests:
            await one(request)
        return
    failures: dict[int, BaseException] = {}

    async def guarded(index: int, request: AllocationRequest) -> None:
        try:
            await one(request)
        except Exception as exc:  # the others finish what they began; the first failure is raised below
            failures[index] = exc

    async with anyio.create_task_group() as tg:
        for index, request in enumerate(requests):
            tg.start_soon(guarded, index, request)
    if failures:
        raise failures[min(failures)]
    ordered = {r.app: outcome.allocations[r.app] for r in requests if r.app in outcome.allocations}
    outcome.allocations = {**ordered, **{k: v for k, v in outcome.allocations.items() if k not in ordered}}


def record_allocation(session: Session, svc: PlannedService, request: AllocationRequest, values: dict[str, str]) -> None:
    stack = session.plan.stack
    if session.state.get_allocation(stack, svc.name, request.kind, request.name) != values:
        session.state.put_allocation(stack, svc.name, request.app, request.kind, request.name, values)
