"""Registering a class without importing it: ``LazyClass("swarm", "pkg.module:SwarmProvider")``.

A hook that hands omnitron a heavy class (a provider importing a Docker client)
can return a :class:`LazyClass` instead; the plugin manager imports it the
first time it is used, so commands that never need it stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

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
