"""The public API for plugin authors: every contract a preset, provider, probe,
secret backend, template function or CLI command implements or receives.

Plugins import from here (plus :mod:`omnitron.testing` in their tests), never
from omnitron's internal modules: those may move, these names stay. Names are
resolved on first access, so ``import omnitron.api`` costs nothing until a
name is used (a plugin's entry point stays cheap to load).

Groups:

- hooks: :data:`hookimpl`; a plugin's own hooks: :data:`hookspec`, :class:`PluginHooks`,
  :class:`Kind`, :class:`Registry` (``omnitron_add_hookspecs``);
- presets: :class:`Preset`, :class:`PresetConfig`, :class:`Credential`,
  :class:`AppBinding`, :class:`ExpandContext`, :class:`AllocationRequest`;
- providers: :class:`Provider`, :class:`ProviderContext`, :class:`RuntimeSpec`,
  :class:`ContainerState` (with the :class:`Candidate` servers it chose among), :class:`InfrastructureState`, :class:`ExecResult`,
  :data:`ProgressFn`, :class:`LazyClass`, and how a provider describes itself:
  :class:`ProviderDescriptor`, :class:`PlannedAddress`; what it may record:
  :class:`StateStore` (its per-provider records); host ports:
  :func:`is_listening`, :func:`port_listeners`, :func:`describe_listeners`,
  :func:`addresses_overlap`, :func:`free_port`; waiting: :func:`poll_attempts`,
  :func:`poll_attempts_sync`; concurrent steps whose failures stay one error:
  :func:`task_group`; a log stream's chunks as lines: :func:`text_lines`;
- backups: :class:`BackupFile` (what ``Preset.backup`` returns), :func:`exec_bytes`
  (binary output of a command run where a service runs);
- running services: :class:`ServiceHandle`, :class:`HealthProbe`,
  :class:`ProbeResult`, a probe as run inside a container: :class:`ContainerProbe`, what the plan cache checks
  instead of a probe or a provider (``quick_check``/``quick_checks``): :class:`QuickCheck`,
  :func:`container_probes`, :func:`container_port`; :class:`ProcessRecipe`, :class:`ProcessRun`,
  :func:`wait_for_ports`, :class:`DataTemplate` (a data volume seeded from a cached copy),
  :func:`user_cache_dir` (where reusable artefacts are kept), :func:`run_after_exit` (refilling it once the command exits),
  :class:`HeadStart` (how a provider starts a service again ahead of planning, ``Provider.head_start``);
- the plan: :class:`Plan`, :class:`PlannedService` (its ports inside a container:
  ``container_ports()``), :class:`AppPlan`,
  :func:`context_for`, :func:`runtime_templates`, :func:`service_owner`; where
  apps listen: :func:`app_addresses`, :class:`AppEndpoint`;
- env templates: :class:`TemplateFunction`, :class:`TemplateContext`, :class:`Renderer`, :func:`render_app_env`,
  :data:`MASK`, :data:`PENDING`,
  :class:`SecretFunction` (``${secret:NAME}``, to derive a function that transforms a declared secret);
- secrets: :class:`SecretBackend`, :class:`SecretContext`;
- config models: :class:`ServiceRequirement`, :class:`DockerServiceConfig`,
  :class:`DockerOptions` (``uses_host_network()``), :class:`ContainerHealthCheck` (the Engine API's
  shape: ``engine_api()``), :class:`HealthCheck`, :class:`VolumeMount`,
  :class:`SecretFiles`, :class:`DeployConfig`,
  :class:`ProcessConfig`, :class:`BareMetalServiceConfig`, :class:`BareMetalServer`, :data:`Port`, :data:`Size`, :data:`BucketName`,
  :data:`Duration`,
  :func:`parse_size`, :func:`parse_duration`, :func:`format_validation_error` (a pydantic error as one
  :class:`ConfigError` line);
- errors: :class:`OmnitronError`, :class:`ConfigError`, :class:`PlanError`,
  :class:`TemplateError`, :class:`PluginError`, :class:`ProvisionError`, :class:`SecretError`,
  :class:`StartupTimeout` (a provider's wait for a service it started ran out of its ``startupTimeout``);
- commands: :class:`CommandSpec`, the shared options :data:`ProjectOpt`,
  :data:`StackOpt`, :data:`JsonOpt`, :data:`ProviderOpt`, :func:`print_json`,
  :func:`completes` (a shell completer of the project's apps, services, stacks, backups),
  :func:`console`, and the use cases a command calls: :func:`load_stack`
  (a :class:`Stack`), :func:`pick_service`, :func:`secret_value`,
  :func:`exec_in_service`, :func:`interactive_exec_argv`, :func:`recorded_index`,
  :func:`recorded_facts`, :func:`recorded_allocations` (each app's, those its plan requests now).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:  # the names as a type checker sees them (resolved lazily below)
    from ._api_types import *  # noqa: F403

# public name -> "module:attribute" (relative to this package)
_EXPORTS: dict[str, str] = {
    # a plugin's own hooks
    "hookspec": "hookspecs:hookspec",
    "PluginHooks": "registry:PluginHooks",
    "Kind": "registry:Kind",
    "Registry": "registry:Registry",
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
    "Candidate": "providers:Candidate",
    "InfrastructureState": "providers:InfrastructureState",
    "ExecResult": "providers:ExecResult",
    "ProgressFn": "providers:ProgressFn",
    "LazyClass": "lazy:LazyClass",
    "ProviderDescriptor": "providers:ProviderDescriptor",
    "PlannedAddress": "providers:PlannedAddress",
    "StateStore": "state:StateStore",
    "is_listening": "hostports:is_listening",
    "port_listeners": "hostports:listeners",
    "describe_listeners": "hostports:describe_listeners",
    "addresses_overlap": "hostports:addresses_overlap",
    "free_port": "hostports:free_port",
    "poll_attempts": "poll:attempts",
    "poll_attempts_sync": "poll:attempts_sync",
    "text_lines": "lines:text_lines",
    "task_group": "tasks:task_group",
    # running services
    "ServiceHandle": "runtime:ServiceHandle",
    "exec_bytes": "runtime:exec_bytes",
    "BackupFile": "presets:BackupFile",
    "HealthProbe": "health:HealthProbe",
    "ProbeResult": "health:ProbeResult",
    "QuickCheck": "quickcheck:QuickCheck",
    "ContainerProbe": "health:ContainerProbe",
    "container_probes": "health:container_probes",
    "container_port": "health:container_port",
    "ProcessRecipe": "process:ProcessRecipe",
    "ProcessRun": "process:ProcessRun",
    "wait_for_ports": "process:wait_for_ports",
    "DataTemplate": "data_templates:DataTemplate",
    "user_cache_dir": "user_cache:user_cache_dir",
    "run_after_exit": "after_exit:run_after_exit",
    "HeadStart": "head_start_recipe:HeadStart",
    # the plan
    "Plan": "plan:Plan",
    "PlannedService": "plan:PlannedService",
    "AppPlan": "plan:AppPlan",
    "context_for": "plan:context_for",
    "runtime_templates": "plan:runtime_templates",
    "service_owner": "plan:service_owner",
    "app_addresses": "engine.appports:app_addresses",
    "AppEndpoint": "state:AppEndpoint",
    # templates
    "TemplateFunction": "templating:TemplateFunction",
    "TemplateContext": "templating:TemplateContext",
    "Renderer": "templating:Renderer",
    "render_app_env": "env:render_app_env",
    "SecretFunction": "templating:SecretFunction",
    "MASK": "templating:MASK",
    "PENDING": "templating:PENDING",
    # secrets
    "SecretBackend": "secrets.base:SecretBackend",
    "SecretContext": "secrets.base:SecretContext",
    # config models
    "ServiceRequirement": "model:ServiceRequirement",
    "DockerServiceConfig": "model:DockerServiceConfig",
    "DockerOptions": "model:DockerOptions",
    "ContainerHealthCheck": "model:ContainerHealthCheck",
    "HealthCheck": "model:HealthCheck",
    "VolumeMount": "model:VolumeMount",
    "SecretFiles": "model:SecretFiles",
    "DeployConfig": "model:DeployConfig",
    "ProcessConfig": "model:ProcessConfig",
    "BareMetalServiceConfig": "model:BareMetalServiceConfig",
    "BareMetalServer": "model:BareMetalServer",
    "format_validation_error": "loader:format_validation_error",
    "Port": "model:Port",
    "Size": "model:Size",
    "BucketName": "model:BucketName",
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
    "StartupTimeout": "errors:StartupTimeout",
    "SecretError": "errors:SecretError",
    # commands
    "CommandSpec": "cli_registry:CommandSpec",
    "ProjectOpt": "cli.options:ProjectOpt",
    "StackOpt": "cli.options:StackOpt",
    "JsonOpt": "cli.options:JsonOpt",
    "ProviderOpt": "cli.options:ProviderOpt",
    "print_json": "cli.options:print_json",
    "completes": "cli.options:completes",
    "console": "cli.options:console",
    "load_stack": "usecases.loading:load_stack",
    "Stack": "usecases.loading:Stack",
    "recorded_index": "usecases.apps:recorded_index",
    "recorded_facts": "state:recorded_facts",
    "recorded_allocations": "state:recorded_allocations",
    "pick_service": "engine.clients:pick_service",
    "secret_value": "engine.clients:secret_value",
    "exec_in_service": "engine.clients:exec_in_service",
    "interactive_exec_argv": "engine.clients:interactive_exec_argv",
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
