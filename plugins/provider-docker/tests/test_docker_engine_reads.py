"""The standard-library read path agrees with aiodocker on a real engine."""

from __future__ import annotations

import json
import uuid

import aiodocker
import pytest
from docker_testlib import BASE_IMAGE, docker_cli

from omnitron_provider_docker import engine_reads

pytestmark = [pytest.mark.anyio, pytest.mark.docker]


@pytest.fixture
def labelled_container():
    tag = uuid.uuid4().hex[:8]
    cid = docker_cli("run", "-d", "--label", f"omnitron.test-reads={tag}", BASE_IMAGE, "sleep", "60").strip()
    yield cid, tag
    docker_cli("rm", "-f", cid, check=False)


async def test_list_and_inspect_match_aiodocker(labelled_container):
    cid, tag = labelled_container
    sock = engine_reads.local_socket()
    assert sock is not None
    filters = {"label": [f"omnitron.test-reads={tag}"]}
    light = engine_reads.list_containers(sock, filters, all=True)
    async with aiodocker.Docker() as docker:
        heavy = [c._container for c in await docker.containers.list(all=True, filters=json.dumps(filters))]
        inspected = (await docker.containers.get(cid))._container
    assert [c["Id"] for c in light] == [c["Id"] for c in heavy] == [cid]
    assert light[0]["Labels"] == heavy[0]["Labels"]
    mine = engine_reads.inspect_container(sock, cid)
    assert mine["Id"] == inspected["Id"] and mine["Config"]["Labels"] == inspected["Config"]["Labels"]
    assert mine["State"]["Status"] == "running"


async def test_missing_container_and_dead_socket(tmp_path):
    sock = engine_reads.local_socket()
    assert engine_reads.inspect_container(sock, "no-such-container-" + uuid.uuid4().hex) is None
    assert engine_reads.ping(sock, timeout=1) is True
    dead = tmp_path / "dead.sock"
    assert engine_reads.ping(dead, timeout=0.5) is False
    with pytest.raises(engine_reads.EngineReadError) as info:
        engine_reads.list_containers(dead, {}, all=True)
    assert info.value.status == 900
