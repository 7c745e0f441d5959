"""The plugin manager: a typed facade over pluggy.

Nothing else in omnitron calls ``pm.hook.*``: it asks this facade for
presets, providers, probes, secret backends, template functions and commands,
each a :class:`~omnitron.registry.Registry` built once. The core's built-ins
register first, then entry points in the ``omnitron`` group, loaded on first
use; ``OMNITRON_PLUGINS`` (comma-separated allowlist) and
``OMNITRON_DISABLE_PLUGINS`` (blocklist) choose which. A plugin that fails to
import is reported as a warning and skipped; a plugin implementing a hook
omnitron does not have (a misspelled ``omnitron_*`` name) or two plugins
providing the same name is a :class:`~omnitron.errors.PluginError` naming the
distributions.

A plugin may define hooks of its own (``omnitron_add_hookspecs``) for other
plugins to implement; they are collected through the same typed registries
(:meth:`PluginManager.registry`). Entry points are all registered before any
implementation is checked against the known hooks, so a plugin implementing
another plugin's hook may load before it.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import builtins, hookspecs
from .errors import PluginError
from .hookspecs import PROJECT
from .registry import Kind, PluginHooks, Registry

if TYPE_CHECKING:
    from .providers import ProviderDescriptor

ENTRY_POINT_GROUP = "omnitron"

KINDS: dict[str, Kind] = {
    "presets": Kind("omnitron_add_presets", "presets", instantiate=True),
    "providers": Kind("omnitron_add_providers", "providers"),
    "probes": Kind("omnitron_add_health_probes", "probes", instantiate=True),
    "template_functions": Kind("omnitron_add_template_functions", "template_functions", instantiate=True),
    "secret_backends": Kind("omnitron_add_secret_backends", "secret_backends"),
    "commands": Kind("omnitron_add_commands", "commands", key=lambda spec: f"{spec.group} {spec.name}".strip()),
}
"""Attribute of :class:`PluginManager` -> the kind it holds (plugins' own kinds are added by hook name)."""
ADD_HOOKSPECS = "omnitron_add_hookspecs"


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
        return {"name": self.name, "distribution": self.distribution, "version": self.version, "hooks": self.hooks, "provides": {_camel(k): v for k, v in self.provides.items()}}


def _camel(label: str) -> str:
    """``template_functions`` -> ``templateFunctions``, as the models' aliases spell it (pydantic only for odd labels)."""
    words = label.split("_")
    if all(w and w.isascii() and w.islower() or w.isdigit() for w in words):
        return words[0] + "".join(w.capitalize() for w in words[1:])
    from pydantic.alias_generators import to_camel

    return to_camel(label)


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
        self._kinds: dict[str, Kind] = dict(KINDS)
        self._registries: dict[str, Registry] = {}
        self._hook_owners: dict[str, str] = {}
        """Hook name -> the plugin that defined it (``omnitron_add_hookspecs``)."""
        self.load_errors: list[str] = []
        self._entrypoints_loaded = True  # the built-ins implement core hooks only
        self.register(builtins, name="omnitron", distribution=("omnitron-core", _version("omnitron-core")))
        self._entrypoints_loaded = not load_entrypoints

    # -- registration ---------------------------------------------------

    def register(self, plugin: ModuleType | object, name: str | None = None, *, distribution: tuple[str, str] | None = None, check: bool = True) -> str:
        """Register a plugin object or module (tests and built-ins use this).

        :param check: check its hook implementations now (entry points are
            checked once all are registered, see :meth:`load_entrypoints`).
        :raises PluginError: ``name`` is taken, the plugin implements a hook
            omnitron does not have (a misspelling) or with the wrong arguments,
            or defines a hook another plugin defines.
        """
        self._invalidate()
        try:
            plugin_name = self._pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from None
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name or plugin!r}{_from(distribution)}: {exc}") from None
        if plugin_name is None:
            raise PluginError(f"plugin {name!r} is already registered")
        self._dists[plugin_name] = distribution or (plugin_name, "0")
        try:
            self._add_own_hooks(plugin, plugin_name)
            if check:
                if not self._entrypoints_loaded and self._unknown_hooks(plugin_name):
                    self.load_entrypoints()  # the plugin defining them may be an entry point not loaded yet
                self._check_hooks(plugin_name)
        except PluginError:
            self._forget(plugin_name)
            raise
        return plugin_name

    def _add_own_hooks(self, plugin: object, plugin_name: str) -> None:
        """Add the hooks ``plugin`` defines (its ``omnitron_add_hookspecs``) and the kinds of registry they fill."""
        for impl in getattr(self._pm.hook, ADD_HOOKSPECS).get_hookimpls():
            if impl.plugin is plugin:
                for hooks in impl.function() or []:
                    self._add_specs(hooks, plugin_name)

    def _add_specs(self, hooks: PluginHooks, plugin_name: str) -> None:
        names = sorted(n for n in dir(hooks.specs) if n.startswith(f"{PROJECT}_") and hasattr(getattr(hooks.specs, n), f"{PROJECT}_spec"))
        for hook in names:
            owner = "omnitron-core" if hasattr(hookspecs, hook) else self._hook_owners.get(hook)
            if owner is not None and owner != plugin_name:
                raise PluginError(f"plugin {self._describe(plugin_name)} defines the hook {hook}, which {self._describe(owner) if owner in self._dists else owner} defines already")
        fresh = [h for h in names if h not in self._hook_owners]
        if fresh:
            try:
                self._pm.add_hookspecs(_only(hooks.specs, fresh))
            except (ValueError, pluggy.PluginValidationError) as exc:
                raise PluginError(f"plugin {self._describe(plugin_name)}: its hooks cannot be added: {exc}") from None
        for hook in names:
            self._hook_owners[hook] = plugin_name
        for kind in hooks.kinds:
            if kind.hook not in names:
                raise PluginError(f"plugin {self._describe(plugin_name)} gives a registry for {kind.hook}, which it does not define")
            self._kinds[kind.hook] = kind

    def _check_hooks(self, plugin_name: str) -> None:
        """A hook implementation omnitron has no spec for is an error (a misspelling, or its defining plugin is missing)."""
        unknown = self._unknown_hooks(plugin_name)
        if unknown:
            distribution = self._dists.get(plugin_name)
            distribution = None if distribution == (plugin_name, "0") else distribution
            known = ", ".join(sorted({h for h in dir(hookspecs) if h.startswith(f"{PROJECT}_")} | set(self._hook_owners)))
            why = "misspelled?" if all(u.startswith(f"{PROJECT}_add_") for u in unknown) else "misspelled, or the plugin defining it is not installed?"
            raise PluginError(f"plugin {plugin_name!r}{_from(distribution)} implements {', '.join(unknown)}, which is not an omnitron hook ({why}); hooks: {known}")

    def check_hooks(self) -> None:
        """Check every registered plugin's hook implementations (after registering several with ``check=False``)."""
        for plugin_name, _ in self._pm.list_name_plugin():
            try:
                self._check_hooks(plugin_name)
            except PluginError:
                self._forget(plugin_name)
                raise

    def _unknown_hooks(self, plugin_name: str) -> list[str]:
        plugin = self._pm.get_plugin(plugin_name)
        return sorted(c.name for c in self._pm.get_hookcallers(plugin) or [] if not c.has_spec())

    def _forget(self, plugin_name: str) -> None:
        if self._pm.has_plugin(plugin_name):
            self._pm.unregister(name=plugin_name)
        self._dists.pop(plugin_name, None)

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
        registered: list[str] = []
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (allow is not None and ep.name not in allow) or ep.name in deny or self._pm.has_plugin(ep.name):
                continue
            meta = ep.dist.metadata if ep.dist else None  # parsed once: .name and .version would each parse it again
            dist = meta["Name"] if meta is not None else ep.name
            version = meta["Version"] if meta is not None else "0"
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not break omnitron
                msg = f"plugin {ep.name!r} ({dist} {version}) failed to load and was skipped: {type(exc).__name__}: {exc}"
                self.load_errors.append(msg)
                warnings.warn(msg, PluginLoadWarning, stacklevel=2)
                continue
            registered.append(self.register(module, name=ep.name, distribution=(dist, version), check=False))
        for plugin_name in registered:
            try:
                self._check_hooks(plugin_name)
            except PluginError:
                self._forget(plugin_name)
                raise
        self._invalidate()

    def _invalidate(self) -> None:
        for attr in KINDS:
            self.__dict__.pop(attr, None)
        self._registries.clear()

    # -- collection -----------------------------------------------------

    def registry(self, kind: str) -> Registry:
        """The registry of a kind: a core one by attribute (``presets``), a plugin's own by its hook's name.

        :raises PluginError: no installed plugin defines that hook.
        """
        self.load_entrypoints()
        if kind not in self._registries:
            self._registries[kind] = self._collect(kind)
        return self._registries[kind]

    def has_registry(self, kind: str) -> bool:
        self.load_entrypoints()
        return kind in self._kinds

    def _collect(self, key: str) -> Registry:
        kind = self._kinds.get(key)
        if kind is None:
            raise PluginError(f"no installed plugin defines the hook {key}")
        hook = getattr(self._pm.hook, kind.hook)
        # get_hookimpls() lists in registration order: built-ins come first
        contributions = [(self._pm.get_name(impl.plugin) or "?", impl.function()) for impl in hook.get_hookimpls()]
        return Registry.collect(kind, contributions, self._describe)

    def _registry(self, attr: str) -> Registry:
        return self.registry(attr)

    def _describe(self, plugin_name: str) -> str:
        dist, version = self._dists.get(plugin_name, (plugin_name, "?"))
        return f"{dist} {version} (plugin {plugin_name!r})"

    @cached_property
    def presets(self) -> Registry:
        """Preset name -> preset instance."""
        return self._registry("presets")

    @cached_property
    def providers(self) -> Registry:
        """Provider name -> provider class (a :class:`~omnitron.lazy.LazyClass` is imported on first lookup)."""
        return self._registry("providers")

    @cached_property
    def probes(self) -> Registry:
        return self._registry("probes")

    @cached_property
    def template_functions(self) -> Registry:
        return self._registry("template_functions")

    @cached_property
    def secret_backends(self) -> Registry:
        return self._registry("secret_backends")

    @cached_property
    def commands(self) -> Registry:
        """``"group name"`` -> :class:`~omnitron.cli_registry.CommandSpec`."""
        return self._registry("commands")

    def provider_descriptors(self, available: Mapping[str, bool] | None = None) -> dict[str, ProviderDescriptor]:
        """What every installed provider says of itself (imports each provider class)."""
        available = available or {}
        return {name: self.providers[name].describe(available=available.get(name)) for name in self.providers}

    # -- introspection --------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        """Every loaded plugin with its version, hooks and what it provides."""
        self.load_entrypoints()
        registries = {key: self.registry(key) for key in self._kinds}
        infos: list[PluginInfo] = []
        for plugin_name, plugin in self._pm.list_name_plugin():
            dist, version = self._dists.get(plugin_name, (plugin_name, "?"))
            hooks = sorted(h.name for h in self._pm.get_hookcallers(plugin) or [])
            provides = {kind.label: names for key, kind in self._kinds.items() if (names := registries[key].names_of(plugin_name))}
            infos.append(PluginInfo(plugin_name, dist, version, hooks, provides))
        infos.sort(key=lambda i: (i.name != "omnitron", i.name))
        return infos


def _only(specs: object, names: list[str]) -> object:
    """A namespace holding just ``names`` of ``specs`` (hooks not defined yet)."""
    return type("PluginHookspecs", (), {name: staticmethod(getattr(specs, name)) for name in names})


def _from(distribution: tuple[str, str] | None) -> str:
    return f" ({distribution[0]} {distribution[1]})" if distribution else ""


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
