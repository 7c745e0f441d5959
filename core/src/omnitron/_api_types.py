"""What :mod:`omnitron.api` names, for type checkers and readers (never imported at run time)."""

from __future__ import annotations

from .cli.options import JsonOpt, ProjectOpt, ProviderOpt, StackOpt, completes, console, print_json
from .cli_registry import CommandSpec
from .data_templates import DataTemplate
from .engine.clients import exec_in_service, interactive_exec_argv, pick_service, secret_value
from .errors import ConfigError, OmnitronError, PlanError, PluginError, ProvisionError, SecretError, StartupTimeout, TemplateError
from .health import ContainerProbe, HealthProbe, ProbeResult, container_port, container_probes
from .quickcheck import QuickCheck
from .hostports import addresses_overlap, describe_listeners, free_port, is_listening, listeners as port_listeners
from .lazy import LazyClass
from .engine.appports import app_addresses
from .lines import text_lines
from .loader import format_validation_error
from .model import BareMetalServer, BareMetalServiceConfig, BucketName, ContainerHealthCheck, DockerOptions, DeployConfig, DockerServiceConfig, Duration, HealthCheck, Port, ProcessConfig, SecretFiles, ServiceRequirement, Size, VolumeMount, parse_duration, parse_size
from .plan import AllocationRequest, AppPlan, Plan, PlannedService, context_for, runtime_templates, service_owner
from .poll import attempts as poll_attempts, attempts_sync as poll_attempts_sync
from .presets import AppBinding, BackupFile, Credential, ExpandContext, Preset, PresetConfig
from .process import ProcessRecipe, ProcessRun, wait_for_ports
from .head_start_recipe import HeadStart
from .providers import Candidate, ContainerState, ExecResult, InfrastructureState, PlannedAddress, ProgressFn, Provider, ProviderContext, ProviderDescriptor, RuntimeSpec
from .runtime import ServiceHandle, exec_bytes
from .secrets.base import SecretBackend, SecretContext
from .state import AppEndpoint, StateStore, recorded_allocations, recorded_facts
from .tasks import task_group
from .env import render_app_env
from .templating import MASK, PENDING, Renderer, SecretFunction, TemplateContext, TemplateFunction
from .usecases.apps import recorded_index
from .usecases.loading import Stack, load_stack
from .user_cache import user_cache_dir
from .after_exit import run_after_exit
from .hookspecs import hookimpl, hookspec
from .registry import Kind, PluginHooks, Registry

__all__ = ['AllocationRequest', 'AppBinding', 'AppEndpoint', 'AppPlan', 'BackupFile', 'BareMetalServer', 'BareMetalServiceConfig', 'BucketName', 'Candidate', 'CommandSpec', 'ConfigError', 'ContainerHealthCheck', 'ContainerProbe', 'ContainerState', 'Credential', 'DataTemplate', 'DeployConfig', 'DockerOptions', 'DockerServiceConfig', 'Duration', 'ExecResult', 'ExpandContext', 'HeadStart', 'HealthCheck', 'HealthProbe', 'InfrastructureState', 'JsonOpt', 'Kind', 'LazyClass', 'MASK', 'OmnitronError', 'PENDING', 'Plan', 'PlanError', 'PlannedAddress', 'PlannedService', 'PluginError', 'PluginHooks', 'Port', 'Preset', 'PresetConfig', 'ProbeResult', 'ProcessConfig', 'ProcessRecipe', 'ProcessRun', 'ProgressFn', 'ProjectOpt', 'Provider', 'ProviderContext', 'ProviderDescriptor', 'ProviderOpt', 'ProvisionError', 'QuickCheck', 'Registry', 'Renderer', 'RuntimeSpec', 'SecretBackend', 'SecretContext', 'SecretError', 'SecretFiles', 'SecretFunction', 'ServiceHandle', 'ServiceRequirement', 'Size', 'Stack', 'StackOpt', 'StartupTimeout', 'StateStore', 'TemplateContext', 'TemplateError', 'TemplateFunction', 'VolumeMount', 'addresses_overlap', 'app_addresses', 'completes', 'console', 'container_port', 'container_probes', 'context_for', 'describe_listeners', 'exec_bytes', 'exec_in_service', 'format_validation_error', 'free_port', 'hookimpl', 'hookspec', 'interactive_exec_argv', 'is_listening', 'load_stack', 'parse_duration', 'parse_size', 'pick_service', 'poll_attempts', 'poll_attempts_sync', 'port_listeners', 'print_json', 'recorded_allocations', 'recorded_facts', 'recorded_index', 'render_app_env', 'run_after_exit', 'runtime_templates', 'secret_value', 'service_owner', 'task_group', 'text_lines', 'user_cache_dir', 'wait_for_ports']
