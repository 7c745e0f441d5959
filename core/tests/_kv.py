"""A small preset serving the ``redis`` shorthand, for core tests (the core alone has no presets)."""

from omnitron import hookimpl
from omnitron.model import DockerServiceConfig, ServiceRequirement
from omnitron.plan import AllocationRequest
from omnitron.presets import AppBinding, Credential, Preset, PresetConfig


class KVConfig(PresetConfig):
    port: int = 7000
    image: str = "kv:1"


class KVPreset(Preset):
    """A small preset serving the ``redis`` shorthand, for core tests."""

    name = "kv"
    service_type = "cache"
    config_model = KVConfig
    shorthand = "redis"
    credentials = {"token": Credential(length=16)}

    def expand(self, config, ctx):
        return ServiceRequirement(
            type="cache",
            ports={"main": config.port},
            env={"KV_URL": "kv://${host}:${port:main}"},
            docker=DockerServiceConfig(image=config.image, env={"KV_TOKEN": "${secret:token}"}),
        )

    def bind_app(self, app, request, service):
        return AppBinding(
            env={"KV_URL": "kv://:${secret:token}@${host}:${port:main}/${alloc:db}"},
            allocation=AllocationRequest(app=app, service=service, kind="kv_db", name=app, values={"db": "?"}),
        )


class KVPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [KVPreset]


class BucketPreset(Preset):
    """A small preset serving the ``s3`` shorthand: it passes the request through unchanged."""

    name = "buckets"
    service_type = "storage"
    shorthand = "s3"

    def expand(self, config, ctx):
        return ServiceRequirement(type="storage", ports={"api": 9000}, docker=DockerServiceConfig(image="s3:1"))

    def bind_app(self, app, request, service):
        return AppBinding(
            env={"S3_BUCKET": "${alloc:bucket}", "S3_ENDPOINT": "http://${host}:${port:api}"},
            allocation=AllocationRequest(app=app, service=service, kind="bucket", name=request.bucket, values={"bucket": request.bucket}, params={"quota": request.quota, "public": request.public}),
        )


class BucketPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [BucketPreset]
