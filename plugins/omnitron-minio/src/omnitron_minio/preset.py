"""The ``minio`` preset: an S3 server on MinIO's contract, and what ``"s3"`` gives an app.

The container is the official MinIO image (``server /data --console-address
:9001``, ``MINIO_ROOT_USER``/``MINIO_ROOT_PASSWORD`` generated into the secret
store, ports ``api`` 9000 and ``console`` 9001, the ``/data`` volume). As a
native process it is a ``minio`` binary or SeaweedFS (see :mod:`.process`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from omnitron.api import (
    PENDING,
    AllocationRequest,
    AppBinding,
    Credential,
    DockerServiceConfig,
    ExpandContext,
    HealthCheck,
    Preset,
    ServiceRequirement,
    VolumeMount,
)

from .config import DEFAULT_IMAGE, MinioConfig

ROOT_ENV = {"MINIO_ROOT_USER": "${secret:root_user}", "MINIO_ROOT_PASSWORD": "${secret:root_password}"}
APP_ENV = {
    "S3_ENDPOINT": "http://${host}:${port:api}",
    "S3_BUCKET": "${alloc:bucket}",
    "S3_ACCESS_KEY": "${secret:access_key}",
    "S3_SECRET_KEY": "${secret:secret_key}",
    "S3_REGION": "${alloc:region}",
}
AWS_ENV = {
    "AWS_ENDPOINT_URL_S3": "http://${host}:${port:api}",
    "AWS_ACCESS_KEY_ID": "${secret:access_key}",
    "AWS_SECRET_ACCESS_KEY": "${secret:secret_key}",
    "AWS_DEFAULT_REGION": "${alloc:region}",
}


class MinioPreset(Preset):
    name = "minio"
    service_type = "storage"
    config_model = MinioConfig
    shorthand = "s3"
    credentials: ClassVar[dict[str, Credential]] = {
        "root_user": Credential(length=20, alphabet="hex"),
        "root_password": Credential(length=40),
    }

    def expand(self, config: MinioConfig, ctx: ExpandContext) -> ServiceRequirement:
        return ServiceRequirement(
            description="S3 object storage (MinIO)",
            type="storage",
            ports={"api": config.port, "console": config.console_port},
            # apps that only "use" the service learn where it is; keys come with "s3" (each app its own)
            env={"S3_ENDPOINT": "http://${host}:${port:api}", "S3_REGION": config.region},
            health_check=HealthCheck.model_validate({"minio": {}, "timeout": 5000}),
            docker=DockerServiceConfig(
                image=config.image or DEFAULT_IMAGE,
                command=["server", "/data", "--console-address", ":9001"],
                env=dict(ROOT_ENV),
                volumes=[VolumeMount(source="data", target="/data")],
                ports={"api": 9000, "console": 9001},
            ),
        )

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        bucket = request.bucket
        env = {**APP_ENV, **(AWS_ENV if request.aws_env else {})}
        return AppBinding(
            env=env,
            allocation=AllocationRequest(
                app=app, service=service, kind="bucket", name=bucket,
                values={"bucket": bucket, "region": PENDING},
                params={"quota": request.quota, "public": request.public},
            ),
            credentials={"access_key": Credential(length=20, alphabet="hex"), "secret_key": Credential(length=40)},
        )

    async def prepare(self, service: Any) -> None:
        from .runtime import prepare

        await prepare(service)

    async def allocate(self, service: Any, request: AllocationRequest) -> dict[str, str]:
        from .runtime import allocate

        return await allocate(service, request)

    async def maintain(self, service: Any) -> None:
        from .runtime import maintain

        await maintain(service)

    async def backup(self, service: Any) -> Any:
        """An object copy of every bucket (one tar each: keys, contents, content types, metadata)."""
        from .backup import backup

        return await backup(service)

    async def restore(self, service: Any, files: Any) -> None:
        """Each backed-up bucket holds exactly its copy's objects again."""
        from .backup import restore

        await restore(service, files)

    def process_recipe(self) -> Any:
        return native_recipe("auto")

    def process_recipe_for(self, service: Any) -> Any:
        return native_recipe(str((service.config or {}).get("server") or "auto"))


def native_recipe(server: str) -> Any:
    """The recipe for ``config.server`` (``auto``: MinIO when a ``minio`` binary is on PATH, else SeaweedFS)."""
    import shutil

    if server == "minio" or (server == "auto" and shutil.which("minio")):
        from .process_minio import MinioRecipe

        return MinioRecipe()
    from .process_seaweedfs import SeaweedRecipe

    return SeaweedRecipe()
