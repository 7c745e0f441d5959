"""Finding a project and planning one of its stacks, with the provider choice a user expects.

``auto`` asks every installed provider that ``auto`` may choose whether it
can work here now (:meth:`~omnitron.providers.Provider.is_available`), and
the planner prefers the available ones. Once ``infra up`` has brought a stack
up with one provider, later commands keep finding it there (the choice is
remembered in the state store) until ``infra down``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..project import Project
from ..state.store import PROVIDER_SETTING

if TYPE_CHECKING:
    from ..plan import Plan
    from ..providers import ProviderDescriptor


@dataclass
class Stack:
    """A project with one of its stacks planned: what every use case works on."""

    project: Project
    plan: Plan
    provider_note: str = ""
    """How the provider was chosen, for people (``provider auto -> docker (...)``)."""
    providers: dict[str, ProviderDescriptor] = field(default_factory=dict)
    """What the installed providers say of themselves, by name."""
    inputs: dict[str, Any] | None = None
    """What the plan was made from (the plan cache's key, :mod:`omnitron.plancache.inputs`), when recorded."""
    provider_option: str | None = None
    """The ``--provider`` it was planned with (``None``: the stack's own choice)."""

    @property
    def name(self) -> str:
        return self.plan.stack

    def describe(self, provider: str) -> ProviderDescriptor | None:
        return self.providers.get(provider)

    def manages(self, provider: str) -> bool:
        """Whether omnitron runs what ``provider`` provides (an external server: no)."""
        d = self.providers.get(provider)
        return d is not None and d.manages_lifecycle


def load_stack(project: Project | Path | str | None = None, stack: str | None = None, provider: str | None = None, *, record: bool = False) -> Stack:
    """Find the project (``--project``, ``OMNITRON_PROJECT`` or from the current directory up) and plan ``stack``.

    :param provider: ``--provider``; ``None`` keeps the stack's choice. With
        ``auto``, the provider the last ``infra up`` used wins while the stack is up.
    :param record: note what the plan is made from (:attr:`Stack.inputs`), for the plan cache.
    :raises ConfigError: a config file is wrong (exit code 2).
    :raises PluginError: the chosen provider is not installed.
    """
    proj = project if isinstance(project, Project) else Project.discover(project)
    from ..plancache import switched_off

    if not record or switched_off():
        loaded = _plan_stack(proj, stack, provider)
        loaded.provider_option = provider
        return loaded
    from ..plancache.inputs import Recorder, key_of
    from ..secrets.keys import config_dir

    with Recorder(proj.root, excluded=[proj.state_dir, config_dir()]) as recorder:
        loaded = _plan_stack(proj, stack, provider)
    loaded.provider_option = provider
    if not any(d.available is not None for d in loaded.providers.values()):  # else the plan hangs on what is available now
        loaded.inputs = key_of(recorder, proj, loaded.plan)
    return loaded


def _plan_stack(proj: Project, stack: str | None, provider: str | None) -> Stack:
    stack_name = stack or proj.default_stack()
    stack_cfg = proj.loaded.ecosystem.stacks.get(stack_name)
    mode = provider or (stack_cfg.provider if stack_cfg is not None else "auto")
    remembered = last_provider(proj, stack_name) if mode == "auto" else None
    if remembered is not None and remembered in proj.plugins.providers:
        plan = _at_recorded_addresses(proj, proj.plan(stack, provider=remembered))
        note = f"provider {remembered} (chosen by the last infra up; infra down to choose again)"
        return Stack(proj, plan, note, proj.plugins.provider_descriptors())
    available = ask_available(proj) if mode == "auto" else {}
    plan = _at_recorded_addresses(proj, proj.plan(stack, provider=provider, available=available))
    descriptors = proj.plugins.provider_descriptors(available)
    note = _auto_note(descriptors) if mode == "auto" else f"provider {mode}"
    used = sorted({s.provider for s in plan.services})
    if used:
        note += f"; services run with: {', '.join(used)}"
    return Stack(proj, plan, note, descriptors)


def _at_recorded_addresses(project: Project, plan: Plan) -> Plan:
    """``plan`` with its services at the addresses their providers chose at the last ``up`` (a healthy bare-metal server)."""
    if not plan.services or not (project.state_dir / "state.db").exists():
        return plan
    from ..engine.addresses import apply_recorded
    from ..state import StateStore

    with StateStore(project.state_dir) as state:
        apply_recorded(plan, state.addresses(plan.stack))
    return plan


def ask_available(project: Project) -> dict[str, bool]:
    """Provider name -> whether it can work here now, for every provider ``auto`` may choose."""
    out: dict[str, bool] = {}
    for name in project.plugins.providers:
        cls = project.plugins.providers[name]
        if cls.auto_priority is not None:
            try:
                out[name] = bool(cls.is_available())
            except Exception:  # a provider that cannot tell is not available
                out[name] = False
    return out


def _auto_note(descriptors: dict[str, ProviderDescriptor]) -> str:
    ranked = sorted((d for d in descriptors.values() if d.auto_priority is not None), key=lambda d: -(d.auto_priority or 0))
    best = next((d for d in ranked if d.available is not False), None)
    if best is None:
        return "provider auto"
    passed = [d.name for d in ranked[: ranked.index(best)]]
    reason = f"{', '.join(passed)} not available" if passed else f"{best.name} is available"
    return f"provider auto -> {best.name} ({reason})"


def last_provider(project: Project, stack: str) -> str | None:
    """The provider the last successful ``infra up`` of ``stack`` ran with, while it is up."""
    if not (project.state_dir / "state.db").exists():
        return None
    from ..state import StateStore

    with StateStore(project.state_dir) as state:
        return state.get_setting(stack, PROVIDER_SETTING)


def remember_provider(project: Project, stack: str, provider: str | None) -> None:
    """Record the provider ``up`` used (``None`` forgets it, after ``down``)."""
    from ..state import StateStore

    with StateStore(project.state_dir) as state:
        state.set_setting(stack, PROVIDER_SETTING, provider)
