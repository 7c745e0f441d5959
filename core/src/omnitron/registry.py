"""One generic registry for every kind of thing plugins register (presets, providers, probes, ...).

A :class:`Kind` says which hook fills it and how an item is named; a
:class:`Registry` is the merged result: name -> item, with the plugin that
registered each. Built-ins are collected first (they are registered first),
so a plugin can never silently replace one: a name given twice is an error
naming both distributions. Items given as :class:`~omnitron.lazy.LazyClass`
are imported on first lookup; ``in`` and iteration import nothing. A plugin
adds kinds of its own with :class:`PluginHooks` (``omnitron_add_hookspecs``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import PluginError
from .lazy import LazyClass


@dataclass(frozen=True)
class Kind:
    """One kind of registered item."""

    hook: str
    """The hook that returns them (``omnitron_add_presets``)."""
    label: str
    """Shown to users, plural (``presets``)."""
    instantiate: bool = False
    """Items are classes the registry instantiates once (presets, probes, template functions)."""
    key: Callable[[Any], str] = lambda item: item.name

    @property
    def singular(self) -> str:
        return self.label[:-1].replace("_", " ")


@dataclass(frozen=True)
class PluginHooks:
    """Hooks a plugin defines for other plugins to implement: its own extension points.

    Returned by ``omnitron_add_hookspecs``. The plugin reads what they register
    with ``plugins.registry(HOOK)``: the same typed :class:`Registry` as the
    core's kinds (a name given twice is an error naming both distributions,
    :class:`~omnitron.lazy.LazyClass` items are imported on first lookup).
    """

    specs: Any
    """A module or class holding the hook specifications, marked with ``omnitron.api.hookspec``
    and named ``omnitron_<plugin>_*``."""
    kinds: tuple[Kind, ...] = ()
    """The kind of registry each hook fills (``Kind.hook`` names one of ``specs``)."""


class Registry(Mapping[str, Any]):
    """Name -> item of one :class:`Kind`, with the registering plugin of each."""

    def __init__(self, kind: Kind, items: dict[str, Any], owners: dict[str, str]) -> None:
        self.kind = kind
        self._items = items
        self._owners = owners

    @classmethod
    def collect(cls, kind: Kind, contributions: Iterable[tuple[str, list[Any]]], describe: Callable[[str], str]) -> "Registry":
        """Merge ``(plugin name, items)`` pairs in registration order; a duplicate name is a :class:`PluginError`."""
        items: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for plugin, provided in contributions:
            for item in provided or []:
                name = kind.key(item)
                if name in items:
                    raise PluginError(
                        f"{kind.singular} {name!r} is provided by both {describe(owners[name])} and {describe(plugin)}; "
                        "uninstall one or disable it with OMNITRON_DISABLE_PLUGINS"
                    )
                items[name] = item
                owners[name] = plugin
        return cls(kind, items, owners)

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[name]

    def names_of(self, plugin: str) -> list[str]:
        return sorted(n for n, o in self._owners.items() if o == plugin)

    def __getitem__(self, name: str) -> Any:
        item = self._items[name]
        if isinstance(item, LazyClass):
            item = item.load()
        if self.kind.instantiate and isinstance(item, type):
            item = item()
        self._items[name] = item
        return item

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
