"""The ``docker`` provider for omnitron: services as labelled containers (aiodocker).

``DockerProvider`` (light: the standard library only) is imported on first
access; aiodocker and aiohttp only when the engine is changed or streamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .provider import DockerProvider

__all__ = ["DockerProvider"]


def __getattr__(name: str) -> Any:
    if name == "DockerProvider":
        from .provider import DockerProvider

        return DockerProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
