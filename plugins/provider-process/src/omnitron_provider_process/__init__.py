"""The ``process`` provider: services run as supervised native processes.

``ProcessProvider`` (light: it only describes the provider) is imported on
first access; its methods (:mod:`.runner`) when the first provider is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .provider import ProcessProvider

__all__ = ["ProcessProvider"]


def __getattr__(name: str) -> Any:
    if name == "ProcessProvider":
        from .provider import ProcessProvider

        return ProcessProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
