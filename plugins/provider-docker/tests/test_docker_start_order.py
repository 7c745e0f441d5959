"""Which containers of an ``up`` start first: the service whose first start initialises its data (Postgres), then the rest."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import anyio
import pytest
from docker_testlib import BASE_IMAGE, Sandbox, by_label, inspect, plugins, postgres_toml, redis_toml
from omnitron.api import free_port

from omnitron_provider_docker import DockerProvider, start_order
from omnitron_provider_docker.start_order import StartOrder

pytestmark = pytest.mark.anyio

SLEEPER = f"""
[infrastructure.services.worker]
docker = {{image = "{BASE_IMAGE}", command = ["sleep", "600"]}}
"""


def services(sandbox: Sandbox, body: str) -> list:
    sandbox.write(body)
    return sandbox.plan().services


def test_the_service_that_initialises_data_starts_first_unless_it_waits_for_another(sandbox: Sandbox) -> None:
    presets = plugins().presets
    order = StartOrder()
    assert order.plan(services(sandbox, postgres_toml(free_port()) + redis_toml(free_port())), presets) == ["db"]
    # waiting for the cache's health first, it cannot also be waited for
    with_dependency = services(sandbox, postgres_toml(free_port()) + 'dependsOn = ["cache"]\n' + redis_toml(free_port()))
    assert order.plan(with_dependency, presets) == []
    # nobody to go ahead of: no order
    assert order.plan(services(sandbox, postgres_toml(free_port())), presets) == []
    assert order.plan(services(sandbox, redis_toml(free_port()) + SLEEPER), presets) == []


async def test_the_others_wait_until_the_first_started_or_will_not(sandbox: Sandbox) -> None:
    order = StartOrder()
    order.plan(services(sandbox, postgres_toml(free_port()) + redis_toml(free_port()) + SLEEPER), plugins().presets)
    went: list[str] = []

    async def start(name: str) -> None:
        await order.wait_turn(name)
        went.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(start, "cache")
        tg.start_soon(start, "worker")
        tg.start_soon(start, "db")
        await anyio.wait_all_tasks_blocked()
        assert went == ["db"]  # the others are held
        order.started("db")
    assert sorted(went[1:]) == ["cache", "worker"]
    # without a plan (an ensure outside an up) nobody waits
    await StartOrder().wait_turn("cache")


async def test_a_first_service_that_never_starts_holds_the_others_only_so_long(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start_order, "WAIT_LIMIT_S", 0.2)
    order = StartOrder()
    order.plan(services(sandbox, postgres_toml(free_port()) + redis_toml(free_port())), plugins().presets)
    with anyio.fail_after(10):
        await order.wait_turn("cache")


def started_at(container: str) -> tuple[datetime, int]:
    """``State.StartedAt`` (RFC 3339 with up to nanoseconds, trailing zeros dropped) as (seconds, nanoseconds)."""
    stamp = inspect("container", container)["State"]["StartedAt"].rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    return datetime.fromisoformat(whole), int(fraction.ljust(9, "0") or 0)


@pytest.mark.docker
async def test_in_an_up_postgres_starts_before_redis_and_both_run(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start_order, "WAIT_LIMIT_S", 120.0)  # the order alone decides, however slow the machine
    plan = services(sandbox, redis_toml(free_port()) + postgres_toml(free_port()))
    context = dataclasses.replace(sandbox.context(), plugins=plugins())
    async with DockerProvider(context) as provider:
        await provider.begin_up(plan)
        states = {}

        async def ensure(name: str) -> None:
            states[name] = await provider.ensure(sandbox.spec(name))

        db, cache = (f"omnitron-{sandbox.name}-dev-{name}" for name in ("db", "cache"))
        async with anyio.create_task_group() as tg:
            tg.start_soon(ensure, "cache")
            with anyio.fail_after(60):  # the cache's container is made before the database is even asked for
                while cache not in await anyio.to_thread.run_sync(by_label, "container", sandbox.name):
                    await anyio.sleep(0.01)
            tg.start_soon(ensure, "db")
    assert {name: state.status for name, state in states.items()} == {"cache": "running", "db": "running"}
    assert sorted(by_label("container", sandbox.name)) == sorted([cache, db])
    assert started_at(db) <= started_at(cache)
