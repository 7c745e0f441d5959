"""The docker provider's quick check (what the plan cache runs instead of asking it) against a real engine.

``GET /containers/<id>/json`` on the engine's socket, expecting it running and started when it was seen: it
passes while the container runs, fails once it is stopped, and the check of the earlier start fails for a
container started again.
"""

from __future__ import annotations

import pytest

from docker_testlib import Sandbox, redis_toml
from omnitron.api import free_port
from omnitron_provider_docker import DockerProvider

pytestmark = [pytest.mark.anyio, pytest.mark.docker]


def passing(checks) -> bool:
    return all(check.run() is None for check in checks)


async def test_the_check_follows_the_container(sandbox: Sandbox, provider: DockerProvider) -> None:
    sandbox.write(redis_toml(free_port()))
    await provider.ensure(sandbox.spec("cache"))
    seen = (await provider.list_managed())["cache"]
    checks = provider.quick_checks(seen)
    assert checks and passing(checks)
    await provider.stop("cache")
    assert not passing(checks)
    await provider.ensure(sandbox.spec("cache"))
    again = (await provider.list_managed())["cache"]
    assert again.container_id == seen.container_id and again.started_at != seen.started_at
    assert not passing(checks)  # started again: not the start that was seen
    assert passing(provider.quick_checks(again))


async def test_the_check_of_the_state_the_engine_reports_passes_while_that_start_runs(sandbox: Sandbox, provider: DockerProvider) -> None:
    """What the plan cache records after ``up`` or ``infra status``: the engine's state keeps Docker's start time,
    the check made from it passes; ``--json`` speaks that time to the second."""
    import re

    from omnitron.testing import status, up

    sandbox.write(redis_toml(free_port()))
    project = sandbox.project()
    plan = project.plan(provider="docker")
    await up(project, plan)
    state = await status(project, plan)
    assert passing(provider.quick_checks(state.services["cache"]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", state.as_json()["services"]["cache"]["startedAt"])
