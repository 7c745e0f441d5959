"""Which installed provider runs a service, from what the providers say of themselves.

Rules, in order:

1. a stack's ``external`` override: the built-in ``external`` provider;
2. a ``bareMetal`` part pins the service to providers running from it on
   stacks that are not ``local``, when a stack override gives it, or when the
   service declares no docker and no process part;
3. a provider named by ``--provider`` or the stack must be installed and able
   to run the service (an error says why not);
4. ``auto``: of the providers that can run it and have an ``auto`` priority,
   the available one with the highest priority (an unavailable one only when
   no available one can run it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import PlanError, PluginError
from ..external import EXTERNAL
from ..install_hints import SECTION_PROVIDERS, provider_package, section_provider
from ..model import ServiceOverride, ServiceRequirement
from ..plan import RUN_PARTS
from ..presets import Preset
from ..providers import ProviderDescriptor
from .inputs import Decl, PlanContext

LOCAL_HOST = "127.0.0.1"
PINNING_SECTION = "bare_metal"
"""The part that, when present, keeps a service on the providers that run from it (see rule 2)."""


@dataclass(frozen=True)
class Chosen:
    name: str
    runs_from: str | None
    host: str
    ports: dict[str, int] = field(default_factory=dict)
    note: str = ""
    manages_lifecycle: bool = True


def choose_provider(ctx: PlanContext, decl: Decl, req: ServiceRequirement, preset: Preset | None, override: ServiceOverride | None) -> Chosen:
    """The provider of ``decl`` (``req``: the requirement as the stack sees it), with the host and ports apps use."""
    ports = dict(req.ports)
    if override is not None and override.external is not None:
        return Chosen(EXTERNAL, None, override.external.host, {**ports, **override.external.ports}, manages_lifecycle=False)
    pinned = _pinned_section(ctx, req, override)
    if pinned is not None:
        descriptor = _best(_candidates(ctx, req, preset, pinned), any_priority=True) or _missing_runner(decl, pinned, ctx)
    elif ctx.provider_choice != "auto":
        descriptor = _explicit(ctx, decl, req, preset)
    else:
        descriptor = _best(_candidates(ctx, req, preset)) or _nothing_runs(ctx, decl, req, preset)
    if descriptor.runs_from is not None and descriptor.runs_from not in RUN_PARTS:
        raise PluginError(f"the {descriptor.name} provider runs from {descriptor.runs_from!r}, which is none of {', '.join(RUN_PARTS)}")
    address = descriptor.planned_address(req)
    if address is None:
        return Chosen(descriptor.name, descriptor.runs_from, LOCAL_HOST, ports, manages_lifecycle=descriptor.manages_lifecycle)
    return Chosen(descriptor.name, descriptor.runs_from, address.host, {**ports, **address.ports}, address.note, descriptor.manages_lifecycle)


def _pinned_section(ctx: PlanContext, req: ServiceRequirement, override: ServiceOverride | None) -> str | None:
    if getattr(req, PINNING_SECTION) is None:
        return None
    pinned_by_override = override is not None and getattr(override, PINNING_SECTION) is not None
    nothing_else = req.docker is None and req.process is None
    if ctx.stack.type != "local" or pinned_by_override or nothing_else:
        return PINNING_SECTION
    return None


def _candidates(ctx: PlanContext, req: ServiceRequirement, preset: Preset | None, section: str | None = None) -> list[ProviderDescriptor]:
    return [
        d for d in ctx.providers.values()
        if d.runs_from is not None and (section is None or d.runs_from == section) and d.can_run(req, preset)
    ]


def _best(candidates: list[ProviderDescriptor], *, any_priority: bool = False) -> ProviderDescriptor | None:
    """The available candidate with the highest ``auto`` priority (``any_priority``: also those without one, last)."""
    ranked = [d for d in candidates if any_priority or d.auto_priority is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda d: (d.available is not False, d.auto_priority is not None, d.auto_priority or 0, d.name))


def validate_choice(ctx: PlanContext) -> None:
    """``--provider`` and the stack's ``provider``: ``auto``, an installed provider, or one whose package is known."""
    choice = ctx.provider_choice
    if choice == "auto" or choice in ctx.providers or provider_package(choice) is not None:
        return
    message = f"unknown provider {choice!r}; installed providers: {_installed(ctx)} (or auto)"
    if ctx.options.provider:
        raise PlanError(message, path="--provider")
    raise PlanError(message, file=ctx.eco_file, path=f"stacks.{ctx.stack_name}.provider")


def _installed(ctx: PlanContext) -> str:
    return ", ".join(sorted(ctx.providers)) or "(none)"


def _explicit(ctx: PlanContext, decl: Decl, req: ServiceRequirement, preset: Preset | None) -> ProviderDescriptor:
    choice = ctx.provider_choice
    descriptor = ctx.providers.get(choice)
    if descriptor is None:
        others = sorted(d.name for d in _candidates(ctx, req, preset) if d.auto_priority is not None)
        alternative = f" (or use --provider {others[0]})" if others else ""
        where = "" if ctx.options.provider else f"{ctx.eco_file}: stacks.{ctx.stack_name}.provider: "  # the stack chose it
        raise PluginError(
            f"{where}service {decl.name} runs with the {choice} provider, which is not installed: "
            f"pip install {provider_package(choice)}{alternative}; installed providers: {_installed(ctx)}"
        )
    if descriptor.runs_from is None or not descriptor.can_run(req, preset):
        raise PlanError(descriptor.cannot_run(req, preset), file=decl.file, path=decl.path)
    return descriptor


def _missing_runner(decl: Decl, section: str, ctx: PlanContext) -> ProviderDescriptor:
    usual = section_provider(section)
    package = provider_package(usual) if usual else None
    hint = f": pip install {package}" if package else ""
    raise PluginError(f"service {decl.name} runs from its {section.replace('_', ' ')} config here, and no installed provider runs from it{hint}; installed providers: {_installed(ctx)}")


def _nothing_runs(ctx: PlanContext, decl: Decl, req: ServiceRequirement, preset: Preset | None) -> ProviderDescriptor:
    only_named = [d.name for d in _candidates(ctx, req, preset)]
    if only_named:
        raise PlanError(f"only the {', '.join(sorted(only_named))} provider can run it: name it with provider on the stack or --provider", file=decl.file, path=decl.path)
    declared = [part for part in SECTION_PROVIDERS if getattr(req, part, None) is not None]
    missing = [p for p in (provider_package(section_provider(s) or "") for s in declared) if p]
    if missing:
        raise PluginError(f"service {decl.name}: no installed provider can run it: pip install {' or '.join(missing)}; installed providers: {_installed(ctx)}")
    raise PlanError("declares no way to run it: give docker, process or bareMetal", file=decl.file, path=decl.path)

