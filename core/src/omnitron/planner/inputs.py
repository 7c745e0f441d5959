"""What every planning stage reads: the options from outside, one declaration, and the shared context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PlanError
from ..templating import Renderer

if TYPE_CHECKING:
    from ..loader import LoadedApp, LoadedProject
    from ..model import PresetService, ServiceRequirement, StackConfig
    from ..plan import AllocationRequest
    from ..presets import Credential, Preset
    from ..providers import ProviderDescriptor


@dataclass
class PlanOptions:
    """What the planner may know about the world, passed in so it stays pure."""

    stack: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    """``OMNITRON_NETWORK_MODE`` is read from here."""
    provider: str | None = None
    """``--provider``: overrides the stack's choice."""
    providers: Mapping[str, ProviderDescriptor] | None = None
    """The installed providers as they describe themselves; read from the plugins when ``None``."""
    file_digests: Mapping[str, str] = field(default_factory=dict)
    """Absolute host path -> digest, for bind-mounted config files (spec hash)."""


@dataclass
class Decl:
    """A service declaration before planning."""

    name: str
    entry: PresetService | ServiceRequirement
    file: str
    path: str
    app: str | None = None
    auto: bool = False


@dataclass
class Binding:
    """What an app shorthand binds on a service: env templates and an allocation."""

    service: str
    env: dict[str, str]
    allocation: AllocationRequest | None
    where: str
    """Dotted path of the shorthand in the app's config (for errors)."""
    credentials: dict[str, Credential] = field(default_factory=dict)
    """Logical name -> credential generated for this app alone (``AppBinding.credentials``)."""


class PlanContext:
    """The inputs of one planning run and what the stages found so far."""

    def __init__(self, project: LoadedProject, plugins: Any, options: PlanOptions) -> None:
        self.project = project
        self.eco = project.ecosystem
        self.plugins = plugins
        """The plugin manager (its registries are read, nothing else): providers' :meth:`check_part` gets it."""
        self.presets: Mapping[str, Preset] = plugins.presets
        self.probes: Mapping[str, Any] = plugins.probes
        self.renderer = Renderer(plugins.template_functions)
        self.providers: Mapping[str, ProviderDescriptor] = options.providers if options.providers is not None else plugins.provider_descriptors()
        self.options = options
        self.eco_file = project.config_file.name
        self.stack_name = options.stack or self.eco.default_stack
        if self.stack_name not in self.eco.stacks:
            raise PlanError(f"unknown stack {self.stack_name!r}; declared: {', '.join(sorted(self.eco.stacks))}", file=self.eco_file, path="stacks")
        self.stack: StackConfig = self.eco.stacks[self.stack_name]
        self.decls: dict[str, Decl] = {}
        self.bindings: dict[str, list[Binding]] = {}
        self.app_services: dict[str, list[str]] = {a: [] for a in project.apps}
        self.app_refs = {ref.name: ref for ref in self.eco.apps}
        """App name -> its entry in the ecosystem's ``apps``."""
        self._app_files: dict[str, str] = {}

    @property
    def provider_choice(self) -> str:
        """``auto`` or the provider named by ``--provider`` / the stack."""
        return self.options.provider or self.stack.provider

    def network_mode(self, service_mode: str | None) -> str | None:
        return self.options.environ.get("OMNITRON_NETWORK_MODE") or self.stack.network_mode or service_mode

    def app_file(self, app: LoadedApp) -> str:
        """The app's config file as errors name it (relative to the project), computed once per app."""
        shown = self._app_files.get(app.name)
        if shown is None:
            shown = self._app_files[app.name] = _shown_file(app, self.project.root)
        return shown


def _shown_file(app: LoadedApp, root: Any) -> str:
    if app.config_file is None:
        return f"apps/{app.name}/config/default.json"
    try:
        return str(app.config_file.relative_to(root))
    except ValueError:
        return str(app.config_file)
