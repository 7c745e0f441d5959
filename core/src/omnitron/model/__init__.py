"""Pydantic models: the single source of truth for every config shape."""

from ._base import Duration, Model, Port, Size, parse_duration, parse_size
from .app import AppConfig, DatabaseRequest, RedisRequest, S3Request
from .ecosystem import (
    LEGACY_PRESETS,
    AppRef,
    EcosystemConfig,
    ExternalService,
    InfrastructureConfig,
    SecretsConfig,
    ServiceOverride,
    StackConfig,
)
from .service import (
    BareMetalServer,
    BareMetalServiceConfig,
    Capabilities,
    CommandCheck,
    ContainerHealthCheck,
    DeployConfig,
    DockerNetworkConfig,
    DockerOptions,
    DockerServiceConfig,
    HealthCheck,
    HttpCheck,
    PresetService,
    ProcessConfig,
    ResourceLimits,
    SecretFiles,
    SecretRef,
    ServiceEntry,
    ServiceRequirement,
    ServiceType,
    TcpCheck,
    VolumeMount,
)

__all__ = [
    "LEGACY_PRESETS", "AppConfig", "AppRef", "BareMetalServer", "BareMetalServiceConfig", "Capabilities",
    "CommandCheck", "ContainerHealthCheck", "DatabaseRequest", "DeployConfig", "DockerNetworkConfig", "DockerOptions",
    "DockerServiceConfig", "Duration", "EcosystemConfig", "ExternalService", "HealthCheck", "HttpCheck",
    "InfrastructureConfig", "Model", "Port", "PresetService", "ProcessConfig", "RedisRequest",
    "ResourceLimits", "S3Request", "SecretFiles", "SecretRef", "SecretsConfig", "ServiceEntry", "ServiceOverride",
    "ServiceRequirement", "ServiceType", "Size", "StackConfig", "TcpCheck", "VolumeMount",
    "parse_duration", "parse_size",
]
