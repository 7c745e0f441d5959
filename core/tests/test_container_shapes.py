"""What both container providers (a local engine, a Swarm) take from the public API: the declared health check in
the Engine API's shape, ports inside the container, and a log stream's chunks as lines."""

from __future__ import annotations

import pytest

from omnitron.api import ContainerHealthCheck, DockerOptions, PlannedService, ProvisionError, text_lines


def test_a_declared_health_check_in_the_engine_api_shape() -> None:
    check = ContainerHealthCheck.model_validate({"test": ["pg_isready", "-q"], "interval": "2s", "timeout": 500, "retries": 3, "startPeriod": "1m"})
    assert check.engine_api() == {"Test": ["CMD", "pg_isready", "-q"], "Interval": 2_000_000_000, "Timeout": 500_000_000, "StartPeriod": 60_000_000_000, "Retries": 3}
    shell = ContainerHealthCheck.model_validate({"test": ["CMD-SHELL", "curl -f localhost || exit 1"]})
    assert shell.engine_api() == {"Test": ["CMD-SHELL", "curl -f localhost || exit 1"]}
    assert ContainerHealthCheck.model_validate({"test": ["NONE"], "retries": 0}).engine_api() == {"Test": ["NONE"], "Retries": 0}


def _svc(docker: dict | None, *, ports: dict[str, int], target: dict[str, int]) -> PlannedService:
    options = DockerOptions.model_validate({"image": "x", **(docker or {})})
    return PlannedService(name="api", provider="docker", host="127.0.0.1", ports=ports, target_ports=target, docker=options)


def test_ports_inside_the_container() -> None:
    svc = _svc({"ports": {"admin": 9000}}, ports={"http": 18080, "admin": 19000}, target={"http": 8080, "admin": 9001})
    assert svc.container_ports() == {"http": 8080, "admin": 9000}  # docker.ports wins over the declared port
    host = _svc({"network": {"name": "host"}}, ports={"http": 18080}, target={"http": 8080})
    assert host.docker is not None and host.docker.uses_host_network()
    assert host.container_ports() == {"http": 18080}  # on the host network it listens on the planned port itself
    assert not svc.docker.uses_host_network()
    with pytest.raises(ProvisionError, match="service api: no container port known for port 'extra'"):
        _svc(None, ports={"extra": 1}, target={}).container_ports()


@pytest.mark.anyio
async def test_chunks_become_lines_without_their_ends() -> None:
    async def chunks():
        for piece in ["first li", "ne\r\nsecond\n", "", "\nthird", " (unterminated)"]:
            yield piece

    assert [line async for line in text_lines(chunks())] == ["first line", "second", "", "third (unterminated)"]
