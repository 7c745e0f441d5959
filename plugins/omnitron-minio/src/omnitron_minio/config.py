"""``config`` of ``{"preset": "minio"}``: the server, its ports, and the buckets it holds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from omnitron.api import BucketName, Port, PresetConfig, Size

MINIO_RELEASE = "RELEASE.2025-04-22T22-12-26Z"
"""The MinIO release the preset runs by default (``minio/minio`` is no longer pullable; quay.io is)."""
DEFAULT_IMAGE = f"quay.io/minio/minio:{MINIO_RELEASE}"
DEFAULT_REGION = "us-east-1"

Server = Literal["auto", "minio", "seaweedfs"]


class BucketSpec(PresetConfig):
    """One bucket of ``buckets``: ``{"name", "quota", "public", "versioning"}``."""

    name: BucketName
    quota: Size | None = None
    """Most bytes the bucket may hold; the service's ``quota`` when absent."""
    public: bool = False
    """Anonymous read (list and download), never write. Private when false."""
    versioning: bool | None = None
    """Turn object versioning on (``true``) or suspend it (``false``); left as it is when absent."""


class MinioConfig(PresetConfig):
    """``config`` of ``{"preset": "minio"}``."""

    image: Annotated[str, Field(min_length=1)] | None = None
    """Container image; :data:`DEFAULT_IMAGE` when absent."""
    port: Port = 9000
    """Host port of the S3 API."""
    console_port: Port = Field(default=9001, alias="consolePort")
    """Host port of the web console."""
    region: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")] = DEFAULT_REGION
    """Region apps sign their requests for (``S3_REGION``)."""
    buckets: list[BucketName | BucketSpec] = []
    """Buckets made after the server is healthy: names, or ``{name, quota, public, versioning}``."""
    quota: Size | None = None
    """Quota of every bucket that sets none of its own (apps' buckets too), e.g. ``10gb``."""
    server: Server = "auto"
    """Which server the process provider runs: ``minio`` (a ``minio`` binary), ``seaweedfs``
    (``weed``, from PATH or ``omnitron-minio[embedded]``), or ``auto``: MinIO when a ``minio``
    binary is on PATH, else SeaweedFS. The docker provider runs :attr:`image`."""

    @field_validator("buckets")
    @classmethod
    def _unique(cls, buckets: list[str | BucketSpec]) -> list[str | BucketSpec]:
        seen: set[str] = set()
        for bucket in buckets:
            name = bucket if isinstance(bucket, str) else bucket.name
            if name in seen:
                raise ValueError(f"bucket {name!r} is listed twice")
            seen.add(name)
        return buckets

    def bucket_specs(self) -> list[BucketSpec]:
        """:attr:`buckets` with plain names turned into :class:`BucketSpec`."""
        return [BucketSpec(name=b) if isinstance(b, str) else b for b in self.buckets]
