"""Fixtures of the gateway's tests: a project per test, natively (the process provider) and in Docker."""

from __future__ import annotations

import pytest

from gateway_testlib import GatewayProject, docker_image, nginx_with_lua


@pytest.fixture(params=["process", "docker"])
def gateway(request):
    """A :class:`GatewayProject` for each provider; everything it started is gone afterwards."""
    if request.param == "docker":
        docker_image()
    else:
        nginx_with_lua()
    project = GatewayProject(request.param)
    yield project
    project.cleanup()


@pytest.fixture
def native_gateway():
    nginx_with_lua()
    project = GatewayProject("process")
    yield project
    project.cleanup()
