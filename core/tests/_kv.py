"""A small preset serving the ``redis`` shorthand, for core tests (the core alone has no presets)."""

from omnitron import hookimpl
from omnitron.model import DockerServiceConfig, ServiceRequirement
from omnitron.plan import AllocationRequest
from omnitron.health import HealthProbe, ProbeResult
from omnitron.presets import AppBinding, Credential, Preset, PresetConfig
from omnitron.process import ProcessRecipe


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


class AccountsPreset(Preset):
    """A preset serving the ``database`` shorthand (dialect ``acct``) that gives each app a user of its own.

    Its ``allocate`` records the app's generated password it was handed, so tests
    can compare it with what the app's env gets.
    """

    name = "accounts"
    service_type = "database"
    shorthand = "database"
    dialects = ("acct",)
    credentials = {"password": Credential(length=24)}
    seen: list[tuple[str, str]] = []

    def expand(self, config, ctx):
        return ServiceRequirement(type="database", ports={"main": 7100}, docker=DockerServiceConfig(image="acct:1"))

    def bind_app(self, app, request, service):
        return AppBinding(
            env={"ACCT_URL": "acct://${alloc:user}:${secret:password}@${host}:${port:main}/${alloc:user}"},
            allocation=AllocationRequest(app=app, service=service, kind="account", name=app, values={"user": app}),
            credentials={"password": Credential(length=20, alphabet="hex")},
        )

    async def allocate(self, service, request):
        self.seen.append((request.app, service.request_secret(request, "password")))
        return dict(request.values)


class AccountsPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [AccountsPreset]


class ChoresPreset(Preset):
    """A preset whose ``prepare`` warns and whose ``maintain`` chore is recorded; its probe notes what answered."""

    name = "chores"
    service_type = "storage"
    shorthand = "s3"
    calls: list[str] = []

    def expand(self, config, ctx):
        from omnitron.model import HealthCheck

        return ServiceRequirement(type="storage", ports={"main": 7300}, docker=DockerServiceConfig(image="chores:1"), health_check=HealthCheck.model_validate({"noting": {}}))

    def bind_app(self, app, request, service):
        return AppBinding(env={"BUCKET": "${alloc:bucket}"}, allocation=AllocationRequest(app=app, service=service, kind="bucket", name=request.bucket, values={"bucket": request.bucket}))

    async def prepare(self, service):
        self.calls.append("prepare")
        service.warn("bucket media is public")

    async def allocate(self, service, request):
        self.calls.append(f"allocate {request.name}")
        return dict(request.values)

    async def maintain(self, service):
        self.calls.append("maintain")


class NotingProbe(HealthProbe):
    name = "noting"
    spec_model = PresetConfig

    async def check(self, spec, target, timeout):
        return ProbeResult(True, "answered", note="server: Chores 1.0")


class ChoresPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [ChoresPreset]

    @hookimpl
    def omnitron_add_health_probes(self):
        return [NotingProbe]


class ServersConfig(PresetConfig):
    server: str = "auto"
    port: int = 7400


class ServerRecipe(ProcessRecipe):
    """A recipe that only says which server it would run (never started in these tests)."""

    binaries = ("true",)

    def __init__(self, server: str) -> None:
        self.server = server

    def command(self, run):
        return ["true", self.server]


class ServersPreset(Preset):
    """A preset whose ``config.server`` chooses the native recipe (``process_recipe_for``)."""

    name = "servers"
    service_type = "storage"
    config_model = ServersConfig

    def expand(self, config, ctx):
        return ServiceRequirement(type="storage", ports={"main": config.port}, docker=DockerServiceConfig(image="servers:1"))

    def process_recipe(self):
        return ServerRecipe("default")

    def process_recipe_for(self, service):
        return ServerRecipe((service.config or {}).get("server") or "auto")


class ServersPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [ServersPreset]


class MeetingPreset(Preset):
    """A ``database`` preset (dialect ``meet``) whose allocations may run at once: each waits until every app's has
    begun, so they complete only when ``up`` makes them concurrently; an app named ``broken*`` fails."""

    name = "meeting"
    service_type = "database"
    shorthand = "database"
    dialects = ("meet",)
    concurrent_allocations = True
    expected = 0
    begun: list[str] = []

    def expand(self, config, ctx):
        return ServiceRequirement(type="database", ports={"main": 7500}, docker=DockerServiceConfig(image="meet:1"))

    def bind_app(self, app, request, service):
        return AppBinding(env={"MEET_DB": "${alloc:database}"}, allocation=AllocationRequest(app=app, service=service, kind="database", name=app, values={"database": app}))

    async def allocate(self, service, request):
        import anyio

        from omnitron.errors import ProvisionError

        self.begun.append(request.app)
        with anyio.fail_after(10):
            while len(self.begun) < self.expected:
                await anyio.sleep(0.01)
        if request.app.startswith("broken"):
            raise ProvisionError(f"service {service.name}: cannot make database {request.app}")
        return {"database": f"{request.app}_db"}


class MeetingPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [MeetingPreset]
