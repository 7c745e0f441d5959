"""The S3 data plane through boto3, the same for every server: buckets, their anonymous policy, versioning, listings.

boto3 is imported when a client is made (it costs a few hundred
milliseconds), and its calls block: run them with :func:`in_thread`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

S3Client = Any
"""A boto3 ``s3`` client."""
T = TypeVar("T")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking S3 call off the event loop."""
    import anyio

    return await anyio.to_thread.run_sync(fn, *args)


def client(endpoint: str, access_key: str | None, secret_key: str | None, region: str, *, anonymous: bool = False, retries: int = 3) -> S3Client:
    """An S3 client for ``endpoint`` (path-style addressing, as MinIO and SeaweedFS expect)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {"signature_version": UNSIGNED} if anonymous else {}
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": retries, "mode": "standard"}, connect_timeout=5, read_timeout=60, **options)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=config,
    )


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` (``AccessDenied``), else the exception's name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or type(exc).__name__)
    return type(exc).__name__


def ensure_bucket(s3: S3Client, name: str, region: str) -> bool:
    """Create bucket ``name`` unless it exists; ``True`` when it was created now."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return False
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if error_code(exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return False
        raise
    return True


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anonymous read of ``bucket``: list it and download its objects; nothing else (no write, no delete)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OmnitronPublicList", "Effect": "Allow", "Principal": "*", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "OmnitronPublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def current_policy(s3: S3Client, bucket: str) -> dict[str, Any] | None:
    """The bucket's policy, or ``None`` when it has none."""
    from botocore.exceptions import ClientError

    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if error_code(exc) in ("NoSuchBucketPolicy", "404", "NoSuchPolicy"):
            return None
        raise


def set_public(s3: S3Client, bucket: str, public: bool) -> bool:
    """Make ``bucket`` anonymously readable, or private (no bucket policy); ``True`` when that changed something."""
    policy = current_policy(s3, bucket)
    if public:
        wanted = public_read_policy(bucket)
        if policy is not None and _statements(policy) == _statements(wanted):
            return False
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
        return True
    if policy is None:
        return False
    s3.delete_bucket_policy(Bucket=bucket)
    return True


def _statements(policy: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """A policy's statements in a comparable form (servers normalise single-item lists to strings)."""

    def items(value: Any) -> tuple[str, ...]:
        return tuple(sorted([value] if isinstance(value, str) else list(value or [])))

    out = []
    for st in policy.get("Statement", []):
        principal = st.get("Principal")
        principal = principal.get("AWS", principal) if isinstance(principal, dict) else principal
        out.append((str(st.get("Effect")), str(items(principal)), items(st.get("Action")), items(st.get("Resource"))))
    return sorted(out)


def set_versioning(s3: S3Client, bucket: str, enabled: bool) -> None:
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    wanted = "Enabled" if enabled else "Suspended"
    if status == wanted or (not enabled and status is None):
        return
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": wanted})


def reaches(s3: S3Client, bucket: str) -> str | None:
    """``None`` when ``s3``'s credentials may use ``bucket`` (HEAD answers 200), else the S3 error code."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        return error_code(exc)
    return None


def bucket_names(s3: S3Client) -> list[str]:
    return sorted(b["Name"] for b in s3.list_buckets().get("Buckets", []))


def objects(s3: S3Client, bucket: str, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Up to ``limit`` objects of ``bucket``: key, size, last modified (ISO 8601)."""
    out: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"MaxItems": limit}):
        for item in page.get("Contents", []):
            out.append({"key": item["Key"], "size": int(item["Size"]), "lastModified": item["LastModified"].isoformat()})
    return out
