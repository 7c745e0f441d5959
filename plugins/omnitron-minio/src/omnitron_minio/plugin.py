"""Hook implementations of omnitron-minio (the ``minio`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("minio", "omnitron_minio.preset:MinioPreset")]


@hookimpl
def omnitron_add_health_probes():
    from omnitron.api import LazyClass

    return [LazyClass("minio", "omnitron_minio.probe:S3Probe")]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="s3", target="omnitron_minio.cli:s3", group="infra", help="List the managed S3 server's buckets, or one bucket's objects (`infra s3 ls [BUCKET]`).")]
