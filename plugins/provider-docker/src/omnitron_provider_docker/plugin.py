"""Hook implementations of omnitron-provider-docker (the ``docker`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from omnitron.api import LazyClass

    # imported when a plan asks for providers (its methods when the first provider is made): listing plugins loads no models
    return [LazyClass("docker", "omnitron_provider_docker.provider:DockerProvider")]
