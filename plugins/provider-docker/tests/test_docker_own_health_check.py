"""The gate waits for a container's own health check (``docker.healthCheck``) as Docker reports it, like the
probes declared under ``healthCheck``; a real engine and the local test images."""

from __future__ import annotations

import pytest
from docker_testlib import BASE_IMAGE, Sandbox, by_label, inspect
from omnitron.testing import up

pytestmark = [pytest.mark.anyio, pytest.mark.docker]


async def test_up_returns_once_docker_reports_the_containers_own_health_check_healthy(sandbox: Sandbox) -> None:
    # no port and no healthCheck of omnitron's own: only Docker's check can say when this service is ready
    sandbox.write(
        f"""
[infrastructure.services.slow]
type = "sidecar"
env = {{SLOW = "yes"}}
[infrastructure.services.slow.docker]
image = "{BASE_IMAGE}"
command = ["sh", "-c", "sleep 5; touch /tmp/ready; exec sleep infinity"]
healthCheck = {{test = ["CMD-SHELL", "test -f /tmp/ready"], interval = "500ms", retries = 60}}
"""
    )
    project = sandbox.project()
    result = await up(project, project.plan(provider="docker"), progress=lambda s, p, d: sandbox.events.append((s, p, d)))
    assert result.services["slow"].status == "ready"
    (container,) = by_label("container", sandbox.name)
    assert inspect("container", container)["State"]["Health"]["Status"] == "healthy"
    waited = [d for s, p, d in sandbox.events if s == "slow" and p == "waiting"]
    assert waited[0] == "container"
    assert "container: starting (its own health check has not passed yet)" in waited
