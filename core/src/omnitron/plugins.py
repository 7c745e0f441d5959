"""The plugin manager: a typed facade over pluggy.

Nothing else in omnitron calls ``pm.hook.*``: it asks this facade for
presets, providers, probes, secret backends, template functions and commands,
each a name -> object map built once. Entry points in the ``omnitron`` group
are loaded on first use; ``OMNITRON_PLUGINS`` (comma-separated allowlist) and
``OMNITRON_DISABLE_PLUGINS`` (blocklist) choose which. A plugin that fails to
import is reported as a warning and skipped; two plugins providing the same
name is a :class:`~omnitron.errors.PluginError` naming both distributions.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Any

import pluggy

from . import builtins, hookspecs
from .errors import PluginError
from .hookspecs import PROJECT

ENTRY_POINT_GROUP = "omnitron"

# hook name -> (kind shown to users, attribute holding the provided name)
_KINDS: dict[str, tuple[str, str]] = {
    "omnitron_add_presets": ("presets", "name"),
    "omnitron_add_providers": ("providers", "name"),
    "omnitron_add_health_probes": ("probes", "name"),
    "omnitron_add_template_functions": ("template_functions", "name"),
    "omnitron_add_secret_backends": ("secret_backends", "name"),
    "omnitron_add_commands": ("commands", "name"),
}


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the others still are."""


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "provides": self.provides,
        }


def _split_env(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


class PluginManager:
    """Typed access to everything plugins register."""

    def __init__(self, *, load_entrypoints: bool = True) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str, str]] = {}
        self.load_errors: list[str] = []
        self.register(builtins, name="omnitron", distribution=("omnitron-core", _version("omnitron-core")))
        self._entrypoints_loaded = not load_entrypoints

    # -- registration ---------------------------------------------------

    def register(self, plugin: ModuleType | object, name: str | None = None, *, distribution: tuple[str, str] | None = None) -> str:
        """Register a plugin object or module (tests and built-ins use this)."""
        self._invalidate()
        plugin_name = self._pm.register(plugin, name=name)
        if plugin_name is None:
            raise PluginError(f"plugin {name!r} is already registered")
        self._dists[plugin_name] = distribution or (plugin_name, "0")
        return plugin_name

    def unregister(self, name: str) -> None:
        self._invalidate()
        self._pm.unregister(name=name)
        self._dists.pop(name, None)

    def load_entrypoints(self) -> None:
        if self._entrypoints_loaded:
            return
        self._entrypoints_loaded = True
        allow = _split_env("OMNITRON_PLUGINS")
        deny = _split_env("OMNITRON_DISABLE_PLUGINS") or set()
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                continue
            if self._pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist else ep.name
            version = ep.dist.version if ep.dist else "0"
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not break omnitron
                msg = f"plugin {ep.name!r} ({dist} {version}) failed to load and was skipped: {type(exc).__name__}: {exc}"
                self.load_errors.append(msg)
                warnings.warn(msg, PluginLoadWarning, stacklevel=2)
                continue
            self.register(module, name=ep.name, distribution=(dist, version))
        self._invalidate()

    def _invalidate(self) -> None:
        for attr in ("presets", "providers", "probes", "template_functions", "secret_backends", "commands"):
            self.__dict__.pop(attr, None)

    # -- collection -----------------------------------------------------

    def _collect(self, hook_name: str) -> dict[str, Any]:
        self.load_entrypoints()
        kind, attr = _KINDS[hook_name]
        found: dict[str, Any] = {}
        owner: dict[str, str] = {}
        hook = getattr(self._pm.hook, hook_name)
        # get_hookimpls() lists in registration order: built-ins come first
        for impl in hook.get_hookimpls():
            plugin_name = self._pm.get_name(impl.plugin) or "?"
            items = impl.function() or []
            for item in items:
                name = getattr(item, attr)
                if name in found:
                    a = self._describe(owner[name])
                    b = self._describe(plugin_name)
                    raise PluginError(f"{kind[:-1].replace('_', ' ')} {name!r} is provided by both {a} and {b}; uninstall one or disable it with OMNITRON_DISABLE_PLUGINS")
                found[name] = item
                owner[name] = plugin_name
        self._owners = getattr(self, "_owners", {})
        self._owners[hook_name] = owner
        return found

    def _describe(self, plugin_name: str) -> str:
        dist, version = self._dists.get(plugin_name, (plugin_name, "?"))
        return f"{dist} {version} (plugin {plugin_name!r})"

    @cached_property
    def presets(self) -> dict[str, Any]:
        """Preset name -> preset instance."""
        return {name: cls() for name, cls in self._collect("omnitron_add_presets").items()}

    @cached_property
    def providers(self) -> Mapping[str, type]:
        """Provider name -> provider class (a :class:`~omnitron.lazy.LazyClass` is imported on first lookup)."""
        from .lazy import LazyMapping

        return LazyMapping(self._collect("omnitron_add_providers"))

    @cached_property
    def probes(self) -> dict[str, Any]:
        return {name: cls() for name, cls in self._collect("omnitron_add_health_probes").items()}

    @cached_property
    def template_functions(self) -> dict[str, Any]:
        return {name: cls() for name, cls in self._collect("omnitron_add_template_functions").items()}

    @cached_property
    def secret_backends(self) -> dict[str, type]:
        return self._collect("omnitron_add_secret_backends")

    @cached_property
    def commands(self) -> dict[str, Any]:
        items = []
        self.load_entrypoints()
        for impl in self._pm.hook.omnitron_add_commands.get_hookimpls():
            items.extend(impl.function() or [])
        seen: dict[tuple[str, str], Any] = {}
        for spec in items:
            key = (spec.group, spec.name)
            if key in seen:
                raise PluginError(f"command {' '.join(filter(None, key))!r} is registered twice")
            seen[key] = spec
        return {f"{g} {n}".strip(): s for (g, n), s in seen.items()}

    # -- introspection --------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        """Every loaded plugin with its version, hooks and what it provides."""
        self.load_entrypoints()
        for hook_name in _KINDS:
            if hook_name != "omnitron_add_commands":
                self._collect(hook_name)
        infos: list[PluginInfo] = []
        for plugin_name, plugin in self._pm.list_name_plugin():
            dist, version = self._dists.get(plugin_name, (plugin_name, "?"))
            hooks = sorted(h.name for h in self._pm.get_hookcallers(plugin) or [])
            provides: dict[str, list[str]] = {}
            for hook_name, (kind, _) in _KINDS.items():
                if hook_name == "omnitron_add_commands":
                    if hook_name in hooks:
                        specs = getattr(plugin, hook_name)() or []
                        provides[kind] = sorted(f"{s.group} {s.name}".strip() for s in specs)
                    continue
                names = sorted(n for n, o in self._owners.get(hook_name, {}).items() if o == plugin_name)
                if names:
                    provides[kind] = names
            infos.append(PluginInfo(plugin_name, dist, version, hooks, provides))
        infos.sort(key=lambda i: (i.name != "omnitron", i.name))
        return infos


_override: PluginManager | None = None


def default_manager() -> PluginManager:
    """The plugin manager commands use: a fresh one, or the one a test installed."""
    return _override if _override is not None else PluginManager()


def set_default_manager(pm: PluginManager | None) -> None:
    """Make commands use ``pm`` (``None`` restores the default); for tests."""
    global _override
    _override = pm


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "0"
