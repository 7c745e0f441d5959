"""The ``redis`` preset: declaration and app binding (a DB index per app)."""

from __future__ import annotations

from typing import Any, ClassVar

from omnitron.api import (
    AllocationRequest,
    AppBinding,
    Credential,
    DockerServiceConfig,
    ExpandContext,
    HealthCheck,
    PENDING,
    Preset,
    SecretFiles,
    ServiceRequirement,
    VolumeMount,
)

from .config import CONFIG_FILE, DEFAULT_VERSION, RedisConfig, secret_file_command, secret_file_conf, server_conf

URL = "redis://default:${secret:password}@${host}:${port:main}/"
"""``default`` names Redis's default user: redis-cli needs it (``redis://:PASSWORD@`` fails with WRONGPASS), redis-py accepts it."""


class RedisPreset(Preset):
    name = "redis"
    service_type = "cache"
    config_model = RedisConfig
    shorthand = "redis"
    credentials: ClassVar[dict[str, Credential]] = {"password": Credential(length=32)}
    concurrent_allocations: ClassVar[bool] = True

    def expand(self, config: RedisConfig, ctx: ExpandContext) -> ServiceRequirement:
        image = config.image or f"redis:{config.version or DEFAULT_VERSION}"
        return ServiceRequirement(
            description="Redis",
            type="cache",
            ports={"main": config.port},
            env={"REDIS_URL": URL + "0"},
            health_check=HealthCheck.model_validate({"redis": {}, "timeout": 5000}),
            docker=DockerServiceConfig(
                image=image,
                # the whole config, password included, on stdin: nothing secret in the container's Cmd or env
                command=["redis-server", "-"],
                stdin=server_conf(config),
                volumes=[VolumeMount(source="data", target="/data")],
                ports={"main": 6379},
                # a provider mounting secrets as files: the password in a config file, the rest as arguments
                secret_files=SecretFiles(files={CONFIG_FILE: secret_file_conf()}, command=secret_file_command(config)),
            ),
            version=config.version,
        )

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        return AppBinding(
            env={"REDIS_URL": URL + "${alloc:db}"},
            allocation=AllocationRequest(app=app, service=service, kind="redis_db", name=app, values={"db": PENDING}),
        )

    async def allocate(self, service: Any, request: AllocationRequest) -> dict[str, str]:
        from .runtime import allocate

        return await allocate(service, request)

    async def backup(self, service: Any) -> Any:
        """An RDB snapshot of the whole server (``BGSAVE``), read where the server runs."""
        from .backup import backup

        return await backup(service)

    async def restore(self, service: Any, files: Any) -> None:
        """The snapshot put in place of the server's RDB file, then the server restarted (it loads it)."""
        from .backup import restore

        await restore(service, files)

    async def fresh_copy(self, service: Any, request: Any, values: Any, token: str) -> Any:
        """The app's DB index, flushed for the test."""
        from .runtime import fresh_copy

        return await fresh_copy(service, request, values, token)

    async def drop_copy(self, service: Any, request: Any, values: Any) -> None:
        """Nothing to drop: the index stays the app's."""
        from .runtime import drop_copy

        await drop_copy(service, request, values)

    def process_recipe(self) -> Any:
        from .process import RedisRecipe

        return RedisRecipe()
