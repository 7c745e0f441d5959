"""The ``process`` provider: services run as supervised native processes.

``ProcessProvider`` is imported on first access, so loading the plugin's
entry point stays cheap.
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
