"""What a reconcile pass saw of a stack, and the repairs it needs (plain data, shared by the pass and the chores)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..providers import ContainerState


@dataclass
class Repair:
    service: str
    action: str
    reason: str


@dataclass
class Observation:
    """What a pass saw: each managed service's state, providers that could not answer, orphans, repairs to make."""

    states: dict[str, ContainerState] = field(default_factory=dict)
    provider_errors: dict[str, str] = field(default_factory=dict)
    orphans: dict[str, str] = field(default_factory=dict)
    """Service -> provider of what runs but is not planned."""
    repairs: list[Repair] = field(default_factory=list)
    unhealthy: dict[str, str] = field(default_factory=dict)
    """Service -> last probe detail, for services that failed their probe at this pass."""

    @property
    def noop(self) -> bool:
        return not self.repairs and not self.orphans and not self.provider_errors and not self.unhealthy
