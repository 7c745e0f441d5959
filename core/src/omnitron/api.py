"""The public API for plugin authors: every contract a preset, provider, probe,
secret backend, template function or CLI command implements or receives.

Plugins import from here (plus :mod:`omnitron.testing` in their tests), never
from omnitron's internal modules: those may move, these names stay. Names are
resolved on first access, so ``import omnitron.api`` costs nothing until a
name is used (a plugin's entry point stays cheap to load).

Groups:

- hooks: :data:`hookimpl`;
- presets: :class:`Preset`, :class:`PresetConfig`, :class:`Credential`,
  :class:`AppBinding`, :class:`ExpandContext`, :class:`AllocationRequest`;
- providers: :class:`Provider`, :class:`ProviderContext`, :class:`RuntimeSpec`,
  :class:`ContainerState`, :class:`InfrastructureState`, :class:`ExecResult`,
  :data:`ProgressFn`, :class:`LazyClass`;
- running services: :class:`ServiceHandle`, :class:`HealthProbe`,
  :class:`ProbeResult`, :class:`ProcessRecipe`, :class:`ProcessRun`,
  :func:`wait_for_ports`;
- the plan: :class:`Plan`, :class:`PlannedService`, :class:`AppPlan`;
- env templates: :class:`TemplateFunction`, :class:`TemplateContext`, :data:`MASK`, :data:`PENDING`;
- secrets: :class:`SecretBackend`, :class:`SecretContext`;
- config models: :class:`ServiceRequirement`, :class:`DockerServiceConfig`,
  :class:`DockerOptions`, :class:`HealthCheck`, :class:`VolumeMount`,
  :class:`ProcessConfig`, :data:`Port`, :data:`Size`, :data:`Duration`,
  :func:`parse_size`, :func:`parse_duration`;
- errors: :class:`OmnitronError`, :class:`ConfigError`, :class:`PlanError`,
  :class:`TemplateError`, :class:`PluginError`, :class:`ProvisionError`, :class:`SecretError`;
- commands: :class:`CommandSpec`, the shared options :data:`ProjectOpt`,
  :data:`StackOpt`, :data:`JsonOpt`, :data:`ProviderOpt`, :func:`print_json`,
  :func:`console`, and the use cases a command calls: :func:`load_stack`,
  :func:`pick_service`, :func:`secret_value`, :func:`exec_in_service`,
  :func:`interactive_exec_argv`, :func:`recorded_facts`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .cli._common import JsonOpt, ProjectOpt, StackOpt, console, print_json
    from .cli.infra_run import ProviderOpt
    from .cli.infra_run import load_plan as load_stack
    from .cli_registry import CommandSpec
    from .engine.clients import exec_in_service, interactive_exec_argv, pick_service, secret_value
    from .errors import ConfigError, OmnitronError, PlanError, PluginError, ProvisionError, SecretError, TemplateError
    from .health import HealthProbe, ProbeResult
    from .lazy import LazyClass
    from .model import (
        DockerOptions,
        DockerServiceConfig,
        Duration,
        HealthCheck,
        Port,
        ProcessConfig,
        ServiceRequirement,
        Size,
        VolumeMount,
        parse_duration,
        parse_size,
    )
    from .plan import AllocationRequest, AppPlan, Plan, PlannedService
    from .presets import AppBinding, Credential, ExpandContext, Preset, PresetConfig
    from .process import ProcessRecipe, ProcessRun, wait_for_ports
    from .providers import ContainerState, ExecResult, InfrastructureState, ProgressFn, Provider, ProviderContext, RuntimeSpec
    from .runtime import ServiceHandle
    from .secrets.base import SecretBackend, SecretContext
    from .state import recorded_facts
    from .templating import MASK, PENDING, TemplateContext, TemplateFunction

# public name -> "module:attribute" (relative to this package)
_EXPORTS: dict[str, str] = {
    # presets
    "Preset": "presets:Preset",
    "PresetConfig": "presets:PresetConfig",
    "Credential": "presets:Credential",
    "AppBinding": "presets:AppBinding",
    "ExpandContext": "presets:ExpandContext",
    "AllocationRequest": "plan:AllocationRequest",
    # providers
    "Provider": "providers:Provider",
    "ProviderContext": "providers:ProviderContext",
    "RuntimeSpec": "providers:RuntimeSpec",
    "ContainerState": "providers:ContainerState",
    "InfrastructureState": "providers:InfrastructureState",
    "ExecResult": "providers:ExecResult",
    "ProgressFn": "providers:ProgressFn",
    "LazyClass": "lazy:LazyClass",
    # running services
    "ServiceHandle": "runtime:ServiceHandle",
    "HealthProbe": "health:HealthProbe",
    "ProbeResult": "health:ProbeResult",
    "ProcessRecipe": "process:ProcessRecipe",
    "ProcessRun": "process:ProcessRun",
    "wait_for_ports": "process:wait_for_ports",
    # the plan
    "Plan": "plan:Plan",
    "PlannedService": "plan:PlannedService",
    "AppPlan": "plan:AppPlan",
    # templates
    "TemplateFunction": "templating:TemplateFunction",
    "TemplateContext": "templating:TemplateContext",
    "MASK": "templating:MASK",
    "PENDING": "templating:PENDING",
    # secrets
    "SecretBackend": "secrets.base:SecretBackend",
    "SecretContext": "secrets.base:SecretContext",
    # config models
    "ServiceRequirement": "model:ServiceRequirement",
    "DockerServiceConfig": "model:DockerServiceConfig",
    "DockerOptions": "model:DockerOptions",
    "HealthCheck": "model:HealthCheck",
    "VolumeMount": "model:VolumeMount",
    "ProcessConfig": "model:ProcessConfig",
    "Port": "model:Port",
    "Size": "model:Size",
    "Duration": "model:Duration",
    "parse_size": "model:parse_size",
    "parse_duration": "model:parse_duration",
    # errors
    "OmnitronError": "errors:OmnitronError",
    "ConfigError": "errors:ConfigError",
    "PlanError": "errors:PlanError",
    "TemplateError": "errors:TemplateError",
    "PluginError": "errors:PluginError",
    "ProvisionError": "errors:ProvisionError",
    "SecretError": "errors:SecretError",
    # commands
    "CommandSpec": "cli_registry:CommandSpec",
    "ProjectOpt": "cli._common:ProjectOpt",
    "StackOpt": "cli._common:StackOpt",
    "JsonOpt": "cli._common:JsonOpt",
    "ProviderOpt": "cli.infra_run:ProviderOpt",
    "print_json": "cli._common:print_json",
    "console": "cli._common:console",
    "load_stack": "cli.infra_run:load_plan",
    "pick_service": "engine.clients:pick_service",
    "secret_value": "engine.clients:secret_value",
    "exec_in_service": "engine.clients:exec_in_service",
    "interactive_exec_argv": "engine.clients:interactive_exec_argv",
    "recorded_facts": "state:recorded_facts",
}

__all__ = ["hookimpl", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(import_module(f"{__package__}.{module}"), attr)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return list(__all__)
