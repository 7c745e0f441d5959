"""``omnitron infra s3 ls [BUCKET]``: the managed S3 server's buckets, or one bucket's objects.

Uses the root credentials, read from the secret store now (never printed).
Buckets show the app that owns them (from the recorded allocations), whether
they are public, and their quota.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from cyclopts import Parameter

from omnitron.api import JsonOpt, ProjectOpt, StackOpt


def s3(
    action: Literal["ls"],
    bucket: str | None = None,
    *,
    service: Annotated[str | None, Parameter(name="--service", help="Which minio service, when the stack has several.")] = None,
    project: ProjectOpt = None,
    stack: StackOpt = None,
    json: JsonOpt = False,
) -> int:
    """ls: the buckets (owner app, access, quota); ls BUCKET: its objects."""
    import anyio
    import httpx

    from omnitron.api import ProvisionError, load_stack, pick_service, print_json, secret_value

    from . import s3api
    from .config import MinioConfig

    loaded = load_stack(project, stack)
    svc = pick_service(loaded.plan, "minio", service)
    config = MinioConfig.model_validate(svc.config)
    host = f"[{svc.host}]" if ":" in svc.host else svc.host
    endpoint = f"http://{host}:{svc.ports['api']}"
    client = s3api.Client(endpoint, secret_value(loaded.project, svc, "root_user"), secret_value(loaded.project, svc, "root_password"), config.region)
    try:
        rows = anyio.run(client.objects, bucket) if bucket else anyio.run(_buckets, client, loaded, svc.name, config)
    except s3api.S3Error as exc:
        raise ProvisionError(f"service {svc.name} at {endpoint}: {exc}") from None
    except httpx.HTTPError as exc:
        raise ProvisionError(f"service {svc.name} at {endpoint}: {type(exc).__name__}: {exc} (is it up? `omnitron infra up`)") from None
    if json:
        print_json(rows)
    else:
        _table(rows, bucket)
    return 0


async def _buckets(client: Any, loaded: Any, service: str, config: Any) -> list[dict[str, Any]]:
    from omnitron.api import StateStore

    from . import s3api

    owned: dict[str, dict[str, Any]] = {}
    if (loaded.project.state_dir / "state.db").exists():
        with StateStore(loaded.project.state_dir) as state:
            owned = {r["name"]: r for r in state.allocations(loaded.plan.stack) if r["service"] == service and r["kind"] == "bucket"}
    declared = {spec.name: spec for spec in config.bucket_specs()}
    rows = []
    for name in await client.bucket_names():
        row = owned.get(name)
        quota = (row["values"].get("quota") if row else None) or (declared[name].quota if name in declared else None) or config.quota
        public = s3api.grants_anonymous(await client.policy(name))
        rows.append({"bucket": name, "app": row["app"] if row else None, "access": "public-read" if public else "private", "quota": int(quota) if quota else None})
    return rows


def _table(rows: list[dict[str, Any]], bucket: str | None) -> None:
    from rich.table import Table

    from omnitron.api import console

    if bucket:
        table = Table(title=f"bucket {bucket}: {len(rows)} object{'s' if len(rows) != 1 else ''}")
        for col in ("key", "size", "last modified"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(row["key"], str(row["size"]), row["lastModified"])
    else:
        table = Table(title="buckets")
        for col in ("bucket", "app", "access", "quota"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(row["bucket"], row["app"] or "-", row["access"], _size(row["quota"]))
    console().print(table)


def _size(n: int | None) -> str:
    if not n:
        return "-"
    for unit, factor in (("GiB", 1024**3), ("GB", 1000**3), ("MiB", 1024**2), ("MB", 1000**2), ("KiB", 1024), ("kB", 1000)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} B"
