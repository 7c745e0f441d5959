"""The ``postgres`` preset: declaration, app binding and preparation."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from omnitron.api import (
    AllocationRequest,
    AppBinding,
    Credential,
    DockerServiceConfig,
    ExpandContext,
    HealthCheck,
    Port,
    Preset,
    PresetConfig,
    SecretFiles,
    ServiceRequirement,
    VolumeMount,
)

DEFAULT_VERSION = "16"
PASSWORD_FILE = "/run/secrets/postgres-password"
"""Where a provider mounting secrets as files puts the password (the image reads ``POSTGRES_PASSWORD_FILE``)."""
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


class DatabaseOptions(PresetConfig):
    extensions: list[Annotated[str, Field(pattern=IDENTIFIER)]] = []
    """Extensions created in this database (on top of the service-wide ones)."""


class PostgresConfig(PresetConfig):
    """``config`` of ``{"preset": "postgres"}``."""

    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*(-[a-z0-9]+)?$")] | None = None
    """Major version: the image tag (``postgres:<version>``) and the native binaries to prefer."""
    image: Annotated[str, Field(min_length=1)] | None = None
    """Full image name; ``postgres:<version>`` when absent."""
    user: Annotated[str, Field(pattern=IDENTIFIER)] = "postgres"
    port: Port = 5432
    databases: dict[Annotated[str, Field(pattern=IDENTIFIER, max_length=63)], DatabaseOptions] = {}
    """Databases created after the server is healthy."""
    extensions: list[Annotated[str, Field(pattern=IDENTIFIER)]] = []
    """Extensions created in every database (``CREATE EXTENSION IF NOT EXISTS``)."""
    settings: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.]*$")], str | int | float | bool] = {}
    """Server settings passed as ``-c name=value``."""


def database_name(app: str) -> str:
    """The database an app gets by default: its name, ``-`` and ``.`` turned into ``_``."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in app)
    return name if not name[0].isdigit() else f"_{name}"


class PostgresPreset(Preset):
    name = "postgres"
    service_type = "database"
    config_model = PostgresConfig
    shorthand = "database"
    dialects: ClassVar[tuple[str, ...]] = ("postgres", "postgresql")
    credentials: ClassVar[dict[str, Credential]] = {"password": Credential(length=32)}
    concurrent_allocations: ClassVar[bool] = True

    def expand(self, config: PostgresConfig, ctx: ExpandContext) -> ServiceRequirement:
        image = config.image or f"postgres:{config.version or DEFAULT_VERSION}"
        command = ["postgres"]
        for key, value in sorted(config.settings.items()):
            rendered = ("on" if value else "off") if isinstance(value, bool) else str(value)
            command += ["-c", f"{key}={rendered}"]
        return ServiceRequirement(
            description="PostgreSQL",
            type="database",
            ports={"main": config.port},
            env={"DATABASE_URL": f"postgresql://{config.user}:${{secret:password}}@${{host}}:${{port:main}}/postgres"},
            health_check=HealthCheck.model_validate({"postgres": {}, "timeout": 5000}),
            docker=DockerServiceConfig(
                image=image,
                command=command,
                env={"POSTGRES_USER": config.user, "POSTGRES_PASSWORD": "${secret:password}"},
                volumes=[VolumeMount(source="data", target="/var/lib/postgresql/data")],
                ports={"main": 5432},
                secret_files=SecretFiles(files={PASSWORD_FILE: "${secret:password}"}, env={"POSTGRES_PASSWORD_FILE": PASSWORD_FILE}),
            ),
            version=config.version,
        )

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        dbname = getattr(request, "name", None) or database_name(app)
        extensions = list(getattr(request, "extensions", []) or [])
        return AppBinding(
            env={"DATABASE_URL": "postgresql://${alloc:user}:${secret:password}@${host}:${port:main}/${alloc:database}"},
            allocation=AllocationRequest(
                app=app,
                service=service,
                kind="database",
                name=dbname,
                values={"database": dbname, "user": "postgres"},
                params={"extensions": extensions},
            ),
        )

    async def prepare(self, service: Any) -> None:
        from .runtime import prepare

        await prepare(service)

    async def allocate(self, service: Any, request: AllocationRequest) -> dict[str, str]:
        from .runtime import allocate

        return await allocate(service, request)

    async def backup(self, service: Any) -> Any:
        """One ``pg_dump`` custom-format archive per database, made where the server runs."""
        from .backup import backup

        return await backup(service)

    async def restore(self, service: Any, files: Any) -> None:
        """Each database dropped, created again and filled by ``pg_restore`` from its archive."""
        from .backup import restore

        await restore(service, files)

    async def fresh_copy(self, service: Any, request: Any, values: Any, token: str) -> Any:
        """A database of the test's own, cloned from the app's (``CREATE DATABASE ... TEMPLATE``)."""
        from .copies import fresh_copy

        return await fresh_copy(service, request, values, token)

    async def tune_for_tests(self, service: Any) -> None:
        """A server only tests use runs without fsync (as pytest-postgresql's do)."""
        from .copies import tune_for_tests

        await tune_for_tests(service)

    async def drop_copy(self, service: Any, request: Any, values: Any) -> None:
        """The test's database dropped."""
        from .copies import drop_copy

        await drop_copy(service, request, values)

    def process_recipe(self) -> Any:
        from .process import PostgresRecipe

        return PostgresRecipe()

    def data_template(self) -> Any:
        from .data_template import DATA_TEMPLATE

        return DATA_TEMPLATE
