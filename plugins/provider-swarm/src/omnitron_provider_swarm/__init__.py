"""The ``swarm`` provider for omnitron: a cluster stack's services as Docker Swarm services.

``SwarmProvider`` (light: the standard library only) is imported on first
access; aiodocker only when the engine is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .provider import SwarmProvider

__all__ = ["SwarmProvider"]


def __getattr__(name: str) -> Any:
    if name == "SwarmProvider":
        from .provider import SwarmProvider

        return SwarmProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
