"""Hook implementations of omnitron-provider-docker (the ``docker`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from omnitron.lazy import LazyClass

    # imported on first use: commands that do not touch this provider stay fast
    return [LazyClass("docker", "omnitron_provider_docker.provider:DockerProvider")]
