"""The storage service once it is healthy: buckets, each app's bucket and key, quotas.

Everything is idempotent (it runs on every ``infra up``):

- :func:`prepare` makes the configured ``buckets`` and gives each its
  anonymous policy: none (private) unless ``public``; a bucket declared
  private again loses its public policy;
- :func:`allocate` makes an app's bucket and the app's own user, with the
  key pair generated for that app and a policy allowing that bucket only;
- :func:`maintain` gives every bucket its quota and has the server enforce it.

Bucket work goes through the S3 API (:mod:`.s3api`), the same on every
server; users and quotas through the server's own administration
(:mod:`.admin`), chosen by what the server says it is (:mod:`.server`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnitron.api import ProvisionError

from . import s3api
from .admin import RootAccess
from .config import BucketSpec, MinioConfig
from .server import ServerInfo, admin_for, detect

if TYPE_CHECKING:
    from omnitron.api import AllocationRequest, ServiceHandle

CACHE = "omnitron_minio"
"""Key in ``ServiceHandle.extra`` under which one ``up`` keeps what it learned about the server."""


def config_of(handle: ServiceHandle) -> MinioConfig:
    return MinioConfig.model_validate(handle.service.config)


def endpoint_of(handle: ServiceHandle) -> str:
    host = f"[{handle.host}]" if ":" in handle.host else handle.host
    return f"http://{host}:{handle.port('api')}"


def root_access(handle: ServiceHandle, config: MinioConfig) -> RootAccess:
    return RootAccess(endpoint_of(handle), handle.secret("root_user"), handle.secret("root_password"), config.region)


async def _session(handle: ServiceHandle) -> dict[str, Any]:
    """The server's identity, root access and a root S3 client, found once per handle."""
    cache = handle.extra.setdefault(CACHE, {})
    if "info" not in cache:
        config = config_of(handle)
        root = root_access(handle, config)
        cache.update(config=config, root=root, info=await detect(root.endpoint))
        cache["s3"] = s3api.Client(root.endpoint, root.user, root.password, config.region)
        handle.log(f"{cache['info'].label} at {root.endpoint}")
    return cache


async def _s3(handle: ServiceHandle, what: str, call: Any) -> Any:
    """An S3 call, with a failure turned into one line naming the service."""
    import httpx

    try:
        return await call
    except s3api.S3Error as exc:
        raise ProvisionError(f"service {handle.name}: {what}: {exc}") from None
    except httpx.HTTPError as exc:
        raise ProvisionError(f"service {handle.name}: {what}: {type(exc).__name__}: {exc}") from None


async def ensure_bucket(handle: ServiceHandle, spec: BucketSpec, *, owner: str | None = None) -> None:
    """Bucket ``spec.name`` exists, with the anonymous access and versioning ``spec`` declares."""
    session = await _session(handle)
    s3: s3api.Client = session["s3"]
    if await _s3(handle, f"creating bucket {spec.name}", s3.ensure_bucket(spec.name)):
        handle.log(f"created bucket {spec.name}" + (f" for {owner}" if owner else ""))
    changed = await _s3(handle, f"setting the access of bucket {spec.name}", s3api.set_public(s3, spec.name, spec.public))
    if spec.public:
        handle.warn(f"bucket {spec.name} is public: anyone who reaches {session['root'].endpoint} can list and download its objects (never write)")
    elif changed:
        handle.log(f"bucket {spec.name} is private again")
    if spec.versioning is not None:
        await _s3(handle, f"setting versioning of bucket {spec.name}", s3api.set_versioning(s3, spec.name, spec.versioning))


async def prepare(handle: ServiceHandle) -> None:
    """Make the configured buckets (private unless ``public``)."""
    config = config_of(handle)
    for spec in config.bucket_specs():
        await ensure_bucket(handle, spec)


def _declared(config: MinioConfig, bucket: str) -> BucketSpec | None:
    return next((spec for spec in config.bucket_specs() if spec.name == bucket), None)


def _check_owner(handle: ServiceHandle, request: AllocationRequest) -> None:
    """A bucket belongs to one app: another app asking for it gets an error, not that app's data."""
    plan = handle.extra.get("plan") or getattr(handle, "plan", None)
    for row in handle.state.allocations(handle.stack):
        if row["service"] == handle.name and row["kind"] == "bucket" and row["name"] == request.name and row["app"] != request.app:
            if plan is None or row["app"] in plan.apps:
                raise ProvisionError(
                    f"service {handle.name}: bucket {request.name} is app {row['app']}'s; give app {request.app} a bucket of its own (\"s3\": {{\"bucket\": \"...\"}})"
                )


async def allocate(handle: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
    """The app's bucket, and the app's own user allowed on it alone.

    :returns: ``${alloc:...}`` values: ``bucket``, ``region``, and what :func:`maintain`
        reads back (``quota`` in bytes, ``public``, ``server``).
    """
    if request.kind != "bucket":
        raise ProvisionError(f"service {handle.name}: the minio preset cannot allocate a {request.kind!r} (only bucket)")
    _check_owner(handle, request)
    session = await _session(handle)
    config: MinioConfig = session["config"]
    declared = _declared(config, request.name)
    public = bool(request.params.get("public")) or bool(declared and declared.public)
    await ensure_bucket(handle, BucketSpec(name=request.name, public=public, versioning=declared.versioning if declared else None), owner=request.app)
    access_key, secret_key = handle.request_secret(request, "access_key"), handle.request_secret(request, "secret_key")
    await ensure_app_user(handle, session, request.app, access_key, secret_key, request.name)
    quota = request.params.get("quota") or (declared.quota if declared else None) or config.quota
    info: ServerInfo = session["info"]
    return {"bucket": request.name, "region": config.region, "quota": str(quota or ""), "public": "true" if public else "false", "server": info.kind}


async def ensure_app_user(handle: ServiceHandle, session: dict[str, Any], app: str, access_key: str, secret_key: str, bucket: str) -> None:
    """The app's key pair works on ``bucket``; configured through the server's administration when it does not yet."""
    import anyio

    root: RootAccess = session["root"]
    own = s3api.Client(root.endpoint, access_key, secret_key, root.region)
    if await own.reaches(bucket) is None:
        return
    await admin_for(session["info"], root, handle).ensure_user(app, access_key, secret_key, bucket)
    handle.log(f"user {app} allowed on bucket {bucket} only")
    problem: str | None = None
    for _ in range(50):
        problem = await own.reaches(bucket)
        if problem is None:
            return
        await anyio.sleep(0.1)
    raise ProvisionError(f"service {handle.name}: app {app}'s new key is refused on bucket {bucket} ({problem})")


def quotas_of(handle: ServiceHandle, config: MinioConfig) -> dict[str, int | None]:
    """Bucket -> quota in bytes (``None``: none) for every bucket of this service: configured ones and apps'."""
    quotas: dict[str, int | None] = {spec.name: spec.quota or config.quota for spec in config.bucket_specs()}
    for row in handle.state.allocations(handle.stack):
        if row["service"] == handle.name and row["kind"] == "bucket":
            recorded = str(row["values"].get("quota") or "")
            quotas[row["name"]] = int(recorded) if recorded.isdigit() and int(recorded) > 0 else None
    return quotas


LAST_QUOTAS = "omnitron_minio.quotas:{service}"
"""State store setting: the quotas the last sweep applied (to know when one was removed)."""


async def maintain(handle: ServiceHandle) -> None:
    """Give every bucket its quota and have the server enforce it (SeaweedFS: the read-only sweep).

    Nothing to do when no bucket has a quota now and none had one at the last sweep.
    """
    import json

    config = config_of(handle)
    quotas = quotas_of(handle, config)
    key = LAST_QUOTAS.format(service=handle.name)
    last = json.loads(handle.state.get_setting(handle.stack, key) or "{}")
    if not any(quotas.values()) and not any(last.values()):
        return
    session = await _session(handle)
    try:
        await admin_for(session["info"], session["root"], handle).enforce_quotas(quotas)
    except ProvisionError as exc:
        if any(quotas.values()):
            raise
        handle.log(f"quotas not removed: {exc}")
        return
    handle.state.set_setting(handle.stack, key, json.dumps(quotas, sort_keys=True))
