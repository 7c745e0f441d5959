"""The ``mysql`` and ``mariadb`` presets: declaration, app binding and preparation.

Both follow the official images' contract (``MYSQL_ROOT_PASSWORD``, data in
``/var/lib/mysql``, port 3306, server options as the container's arguments)
and run natively from MariaDB's binaries. ``mariadb`` is ``mysql`` with the
official ``mariadb`` image and the ``mariadb`` dialect.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from omnitron.api import (
    AllocationRequest,
    AppBinding,
    ConfigError,
    Credential,
    DockerServiceConfig,
    ExpandContext,
    HealthCheck,
    Preset,
    SecretFiles,
    ServiceRequirement,
    VolumeMount,
)

from .config import MAX_DATABASE_NAME, MysqlConfig, server_args

PASSWORD_FILE = "/run/secrets/mysql-root-password"
"""Where a provider mounting secrets as files puts the root password."""
MAX_USER_NAME = 32
"""MySQL 8's limit on account names (MariaDB allows 80)."""
RESERVED_USERS = frozenset({"root", "mysql", "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema", "public"})


def database_name(app: str) -> str:
    """The database an app gets by default: its name, ``-`` and ``.`` turned into ``_``."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in app)
    name = name if not name[0].isdigit() else f"_{name}"
    return _fit(name, MAX_DATABASE_NAME)


def user_name(app: str) -> str:
    """The account an app gets: like its database name, at most 32 characters, never a system account."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in app)
    if name.lower() in RESERVED_USERS:
        name = f"app_{name}"
    return _fit(name, MAX_USER_NAME)


def _fit(name: str, limit: int) -> str:
    """``name``, or its head and a digest of all of it when longer than ``limit`` (still unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}_{digest}"


class MysqlPreset(Preset):
    name = "mysql"
    service_type = "database"
    config_model = MysqlConfig
    shorthand = "database"
    dialects: ClassVar[tuple[str, ...]] = ("mysql",)
    credentials: ClassVar[dict[str, Credential]] = {"password": Credential(length=32)}
    """The root password."""
    image_name: ClassVar[str] = "mysql"
    default_version: ClassVar[str] = "8.4"
    description: ClassVar[str] = "MySQL"

    def expand(self, config: MysqlConfig, ctx: ExpandContext) -> ServiceRequirement:
        image = config.image or f"{self.image_name}:{config.version or self.default_version}"
        return ServiceRequirement(
            description=self.description,
            type="database",
            ports={"main": config.port},
            env={"DATABASE_URL": "mysql://root:${secret:password}@${host}:${port:main}/"},
            health_check=HealthCheck.model_validate({"mysql": {}, "timeout": 5000}),
            docker=DockerServiceConfig(
                image=image,
                # options only: both official images run their server with them (mysqld / mariadbd)
                command=server_args(config.model_dump(mode="json")),
                env={"MYSQL_ROOT_PASSWORD": "${secret:password}"},
                volumes=[VolumeMount(source="data", target="/var/lib/mysql")],
                ports={"main": 3306},
                # a provider mounting secrets as files: the image reads MYSQL_ROOT_PASSWORD_FILE
                secret_files=SecretFiles(files={PASSWORD_FILE: "${secret:password}"}, env={"MYSQL_ROOT_PASSWORD_FILE": PASSWORD_FILE}),
            ),
            version=config.version,
        )

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        if getattr(request, "extensions", None):
            # silently ignoring them would hand the app a database without what it asked for
            raise ConfigError(f"{self.description} has no extensions (a PostgreSQL feature): drop them, or use the postgres dialect", path="extensions")
        dbname = getattr(request, "name", None) or database_name(app)
        user = user_name(app)
        return AppBinding(
            env={"DATABASE_URL": "mysql://${alloc:user}:${secret:password}@${host}:${port:main}/${alloc:database}"},
            allocation=AllocationRequest(
                app=app,
                service=service,
                kind="database",
                name=dbname,
                values={"database": dbname, "user": user},
            ),
            credentials={"password": Credential(length=32)},
        )

    async def prepare(self, service: Any) -> None:
        from .runtime import prepare

        await prepare(service)

    async def allocate(self, service: Any, request: AllocationRequest) -> dict[str, str]:
        from .runtime import allocate

        return await allocate(service, request)

    async def dump(self, service: Any, database: str) -> str:
        """The SQL of ``database`` (``mysqldump``, run where the service runs, through its provider)."""
        from .runtime import dump

        return await dump(service, database)

    async def backup(self, service: Any) -> Any:
        """One ``mysqldump`` per database (system databases aside), made where the server runs."""
        from .backup import backup

        return await backup(service)

    async def restore(self, service: Any, files: Any) -> None:
        """Each database dropped and created again from its dump, fed to the ``mysql`` client where the server runs."""
        from .backup import restore

        await restore(service, files)

    def process_recipe(self) -> Any:
        from .process import MariadbRecipe

        return MariadbRecipe()


class MariadbPreset(MysqlPreset):
    """``mysql`` with the official ``mariadb`` image (its ``MYSQL_*`` variables are the same contract)."""

    name = "mariadb"
    dialects: ClassVar[tuple[str, ...]] = ("mariadb",)
    image_name: ClassVar[str] = "mariadb"
    default_version: ClassVar[str] = "11.4"
    description: ClassVar[str] = "MariaDB"
