"""Which provider runs a service, and what to install when it is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import PluginError
from ..install_hints import provider_package

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..plugins import PluginManager
    from ..providers import Provider

def provider_class(plugins: PluginManager, svc: PlannedService) -> type[Provider]:
    """The provider class for ``svc``; a one-line error naming the package to install."""
    classes = plugins.providers
    cls = classes.get(svc.provider)
    if cls is not None:
        return cls
    package = provider_package(svc.provider)
    hint = f"pip install {package}" if package else f"install a plugin providing the {svc.provider!r} provider"
    raise PluginError(f"service {svc.name} runs with the {svc.provider} provider, which is not installed: {hint}")


def provider_classes(plugins: PluginManager, services: list[PlannedService]) -> dict[str, type[Provider]]:
    """Provider name -> class for every provider ``services`` use (checked before anything starts)."""
    return {svc.provider: provider_class(plugins, svc) for svc in services}


def selected(plan: Plan, names: list[str] | None) -> list[PlannedService]:
    """The planned services named (with what they depend on), in dependency order; all when ``None``."""
    if names is None:
        return list(plan.services)
    wanted: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        try:
            svc = plan.service(name)
        except KeyError:
            from ..errors import ConfigError

            raise ConfigError(f"no service named {name!r} in stack {plan.stack}; services: {', '.join(s.name for s in plan.services) or '(none)'}") from None
        wanted.add(name)
        stack.extend(svc.depends_on)
    return [s for s in plan.services if s.name in wanted]
