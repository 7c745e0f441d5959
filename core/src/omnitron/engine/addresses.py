"""Addresses chosen at run time: a provider that picks among servers (bare metal) reports where it found the service.

After ``ensure`` the engine points the planned service there (in place, so the
probes, the preset's ``prepare``/``allocate`` and apps' env of this command use
it) and records it in the state store; a later command's plan is pointed there
again by :func:`apply_recorded`, as long as the provider and the spec hash are
still the ones recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..providers import ContainerState
    from ..state import RecordedAddress, StateStore


def adopt(state: StateStore, stack: str, svc: PlannedService, found: ContainerState) -> None:
    """Point ``svc`` at the address its provider reported in ``found`` (when it reported one) and record it."""
    if not found.host:
        return
    ports = {**svc.ports, **(found.ports or {})}
    svc.host, svc.ports = found.host, ports
    if found.reason:
        svc.address_note = found.reason
    state.put_address(stack, svc.name, provider=svc.provider, spec_hash=svc.spec_hash, host=found.host, ports=ports, reason=found.reason or "")


def apply_recorded(plan: Plan, recorded: dict[str, RecordedAddress]) -> None:
    """Point the plan's services at their recorded addresses (in place), where provider and spec hash still match."""
    for svc in plan.services:
        rec = recorded.get(svc.name)
        if rec is None or rec.provider != svc.provider or rec.spec_hash != svc.spec_hash:
            continue
        planned = f"{svc.host}:{','.join(str(p) for p in svc.ports.values())}"
        svc.host, svc.ports = rec.host, {**svc.ports, **rec.ports}
        svc.address_note = f"chosen by the last infra up: {rec.reason or rec.host} (planned: {planned})"
