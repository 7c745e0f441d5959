"""Registering a class without importing it: ``LazyClass("docker", "pkg.module:DockerProvider")``.

A hook that hands omnitron a heavy class (a provider importing a Docker client)
can return a :class:`LazyClass` instead; the plugin manager imports it the
first time it is used, so commands that never need it stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from .errors import PluginError


@dataclass(frozen=True)
class LazyClass:
    name: str
    """The name the class registers (its ``name`` attribute)."""
    target: str
    """``"package.module:ClassName"``."""

    def load(self) -> type:
        module, _, attr = self.target.partition(":")
        cls = getattr(import_module(module), attr)
        if getattr(cls, "name", None) != self.name:
            raise PluginError(f"{self.target} is registered as {self.name!r} but its name is {getattr(cls, 'name', None)!r}")
        return cls


class LazyMapping(Mapping[str, Any]):
    """Name -> class, importing a :class:`LazyClass` on first lookup; ``in`` imports nothing."""

    def __init__(self, items: dict[str, Any]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        value = self._items[key]
        if isinstance(value, LazyClass):
            value = self._items[key] = value.load()
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
