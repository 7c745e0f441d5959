"""Backups of an S3 service: an object copy of every bucket, one tar per bucket.

Each object is read through the S3 API (the preset's root key, the same calls
on MinIO and SeaweedFS) and becomes a tar member named by its key, holding its
bytes; its key, content type and user metadata (``x-amz-meta-*``) ride in the
member's PAX header, so a key a tar name cannot hold as it is (``logs/``)
comes back exactly. A restore makes each backed-up bucket hold exactly the
backup's objects: the bucket is created if it is gone, objects the backup does
not have are deleted, the others written over. Buckets the backup does not
hold are left alone; policies, users and quotas are the next ``up``'s work (it
gives every bucket its declared access again).
"""

from __future__ import annotations

import io
import sys
import tarfile
from datetime import datetime
from typing import TYPE_CHECKING, Any

from omnitron.api import BackupFile, ProvisionError

from .runtime import _s3, _session

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

    from .s3api import Client

KIND = "s3 bucket tar"
KEY = "OMNITRON.key"
CONTENT_TYPE = "OMNITRON.content-type"
META = "OMNITRON.meta."
"""PAX header names (``OMNITRON.meta.NAME``: the object's ``x-amz-meta-NAME``)."""


def _mtime(stamp: str) -> float:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


async def _bucket_tar(handle: ServiceHandle, s3: Client, bucket: str) -> tuple[bytes, int]:
    listed = await _s3(handle, f"listing bucket {bucket}", s3.objects(bucket, limit=sys.maxsize))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for item in listed:
            key = item["key"]
            data, headers = await _s3(handle, f"reading {bucket}/{key}", s3.get_object(bucket, key))
            pax = {KEY: key}
            if headers.get("content-type"):
                pax[CONTENT_TYPE] = headers["content-type"]
            pax.update({META + name.removeprefix("x-amz-meta-"): value for name, value in headers.items() if name.startswith("x-amz-meta-")})
            member = tarfile.TarInfo(key.strip("/") or "object")
            member.size, member.mtime, member.mode, member.pax_headers = len(data), _mtime(item["lastModified"]), 0o600, pax
            tar.addfile(member, io.BytesIO(data))
    return out.getvalue(), len(listed)


def objects_of(data: bytes) -> list[tuple[str, bytes, dict[str, str]]]:
    """``(key, bytes, headers to write it with)`` of every object in a bucket's tar."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            if not member.isfile():
                continue
            pax = member.pax_headers
            headers = {"Content-Type": pax[CONTENT_TYPE]} if CONTENT_TYPE in pax else {}
            headers.update({f"x-amz-meta-{name.removeprefix(META)}": value for name, value in pax.items() if name.startswith(META)})
            body = tar.extractfile(member)
            assert body is not None
            out.append((pax.get(KEY, member.name), body.read(), headers))
    return out


async def backup(handle: ServiceHandle) -> list[BackupFile]:
    session = await _session(handle)
    s3: Client = session["s3"]
    files = []
    for bucket in await _s3(handle, "listing buckets", s3.bucket_names()):
        data, count = await _bucket_tar(handle, s3, bucket)
        handle.log(f"bucket {bucket}: {count} object(s), {len(data)} bytes")
        files.append(BackupFile(f"{bucket}.tar", data, KIND, {"bucket": bucket, "objects": str(count)}))
    return files


async def restore(handle: ServiceHandle, files: list[BackupFile]) -> None:
    session = await _session(handle)
    s3: Client = session["s3"]
    tars = [f for f in files if f.kind == KIND]
    if len(tars) != len(files) or any("bucket" not in f.meta for f in tars):
        raise ProvisionError(f"service {handle.name}: the backup holds files that are not bucket copies ({', '.join(sorted({f.kind for f in files}))})")
    for f in tars:
        bucket = f.meta["bucket"]
        try:
            objects = objects_of(f.data)
        except tarfile.TarError as exc:
            raise ProvisionError(f"service {handle.name}: {f.name} is not a readable tar: {exc}") from None
        if await _s3(handle, f"creating bucket {bucket}", s3.ensure_bucket(bucket)):
            handle.log(f"created bucket {bucket}")
        keep = {key for key, _, _ in objects}
        current: list[dict[str, Any]] = await _s3(handle, f"listing bucket {bucket}", s3.objects(bucket, limit=sys.maxsize))
        for item in current:
            if item["key"] not in keep:
                await _s3(handle, f"deleting {bucket}/{item['key']}", s3.delete_object(bucket, item["key"]))
        for key, data, headers in objects:
            await _s3(handle, f"writing {bucket}/{key}", s3.put_object(bucket, key, data, headers))
        handle.log(f"bucket {bucket}: {len(objects)} object(s) restored")
