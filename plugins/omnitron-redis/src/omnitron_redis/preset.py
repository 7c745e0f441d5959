"""The ``redis`` preset: declaration and app binding (a DB index per app)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from omnitron.model import DockerServiceConfig, HealthCheck, Port, ServiceRequirement, VolumeMount
from omnitron.plan import AllocationRequest
from omnitron.presets import AppBinding, Credential, ExpandContext, Preset, PresetConfig
from omnitron.templating import PENDING

DEFAULT_VERSION = "7"

Policy = Literal[
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
]


class RedisConfig(PresetConfig):
    """``config`` of ``{"preset": "redis"}``."""

    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*(-[a-z0-9]+)?$")] | None = None
    image: Annotated[str, Field(min_length=1)] | None = None
    port: Port = 6379
    maxmemory: Annotated[str, Field(pattern=r"^\d+(b|kb|mb|gb|k|m|g)?$")] | None = None
    """``256mb``; no limit when absent."""
    maxmemory_policy: Policy | None = Field(default=None, alias="maxmemoryPolicy")
    databases: Annotated[int, Field(ge=1, le=1024)] = 16
    """How many DB indexes the server has (apps get one each)."""
    appendonly: bool = False
    reserved: list[Annotated[int, Field(ge=0)]] = []
    """DB indexes never handed to apps (used by something else, e.g. a gateway)."""


def server_args(config: RedisConfig, *, password: str = "${secret:password}") -> list[str]:
    """Arguments after ``redis-server`` (the same for a container and a process)."""
    args = ["--requirepass", password, "--databases", str(config.databases)]
    if config.maxmemory:
        args += ["--maxmemory", config.maxmemory]
    if config.maxmemory_policy:
        args += ["--maxmemory-policy", config.maxmemory_policy]
    if config.appendonly:
        args += ["--appendonly", "yes"]
    return args


class RedisPreset(Preset):
    name = "redis"
    service_type = "cache"
    config_model = RedisConfig
    shorthand = "redis"
    credentials: ClassVar[dict[str, Credential]] = {"password": Credential(length=32)}

    def expand(self, config: RedisConfig, ctx: ExpandContext) -> ServiceRequirement:
        image = config.image or f"redis:{config.version or DEFAULT_VERSION}"
        return ServiceRequirement(
            description="Redis",
            type="cache",
            ports={"main": config.port},
            env={"REDIS_URL": "redis://:${secret:password}@${host}:${port:main}/0"},
            health_check=HealthCheck.model_validate({"redis": {}, "timeout": 5000}),
            docker=DockerServiceConfig(
                image=image,
                command=["redis-server", *server_args(config)],
                volumes=[VolumeMount(source="data", target="/data")],
                ports={"main": 6379},
            ),
            version=config.version,
        )

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        return AppBinding(
            env={"REDIS_URL": "redis://:${secret:password}@${host}:${port:main}/${alloc:db}"},
            allocation=AllocationRequest(app=app, service=service, kind="redis_db", name=app, values={"db": PENDING}),
        )

    async def allocate(self, service: Any, request: AllocationRequest) -> dict[str, str]:
        from .runtime import allocate

        return await allocate(service, request)

    def process_recipe(self) -> Any:
        from .process import RedisRecipe

        return RedisRecipe()
