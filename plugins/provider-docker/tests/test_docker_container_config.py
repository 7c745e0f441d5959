"""The pure parts: naming, the container-create body, states from inspect data (no engine needed)."""

from __future__ import annotations

import pytest
from omnitron.api import ConfigError, DockerOptions, PlannedService, ProvisionError, RuntimeSpec

from omnitron_provider_docker.container_config import Placement, create_body, memory_bytes, runtime_hash
from omnitron_provider_docker.container_state import from_inspect
from omnitron_provider_docker.naming import container_name, disambiguated, network_alias, volume_name

PLACEMENT = Placement(project="shop", stack="dev", network="omnitron-shop-dev", volumes={"data": "omnitron-shop-dev-web_db-data"})


def planned(**docker: object) -> PlannedService:
    options = {"image": "example/db:1", **docker}
    return PlannedService(
        name="web/db",
        provider="docker",
        host="127.0.0.1",
        ports={"main": 15432, "admin": 18080},
        target_ports={"main": 5432, "admin": 8080},
        docker=DockerOptions.model_validate(options),
        spec_hash="abc123",
    )


def test_names_map_the_app_slash_and_stay_valid() -> None:
    assert container_name("shop", "dev", "web/db") == "omnitron-shop-dev-web_db"
    assert volume_name("shop", "dev", "web/db", "pg data") == "omnitron-shop-dev-web_db-pg_data"
    assert network_alias("web/db") == "web-db"
    assert disambiguated("n", "a", "b") != disambiguated("n", "a", "c")


def test_ports_bind_the_planned_address_and_map_container_ports() -> None:
    svc = planned(ports={"main": 5433})
    body = create_body(RuntimeSpec(service=svc), PLACEMENT)
    bindings = body["HostConfig"]["PortBindings"]
    assert bindings == {
        "5433/tcp": [{"HostIp": "127.0.0.1", "HostPort": "15432"}],
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
    }
    assert set(body["ExposedPorts"]) == {"5433/tcp", "8080/tcp"}
    assert body["Labels"]["omnitron.port.main"] == "5433"


def test_options_reach_the_engine_in_its_units() -> None:
    svc = planned(
        entrypoint=["/bin/init"],
        command="serve --fast",
        user="1000:1000",
        privileged=True,
        capabilities={"add": ["NET_ADMIN"], "drop": ["ALL"]},
        resources={"memory": "512m", "cpus": 1.5},
        healthCheck={"test": ["pg_isready"], "interval": "2s", "retries": 3, "startPeriod": "1m"},
        labels={"team": "db", "omnitron.project": "spoofed"},
        volumes=[{"source": "data", "target": "/data"}, {"source": "/etc/app.conf", "target": "/app.conf", "readOnly": True}],
        network={"aliases": ["database"]},
    )
    body = create_body(RuntimeSpec(service=svc, env={"A": "1"}), PLACEMENT)
    host = body["HostConfig"]
    assert body["Entrypoint"] == ["/bin/init"]
    assert body["Cmd"] == ["serve", "--fast"]
    assert body["User"] == "1000:1000"
    assert body["Env"] == ["A=1"]
    assert host["Privileged"] is True
    assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["ALL"]
    assert host["Memory"] == 512 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000
    assert body["Healthcheck"] == {"Test": ["CMD", "pg_isready"], "Interval": 2_000_000_000, "Retries": 3, "StartPeriod": 60_000_000_000}
    assert body["Labels"]["team"] == "db"
    assert body["Labels"]["omnitron.project"] == "shop"
    assert body["Labels"]["omnitron.service"] == "web/db"
    assert body["Labels"]["omnitron.spec-hash"] == "abc123"
    assert host["Mounts"] == [
        {"Type": "volume", "Source": "omnitron-shop-dev-web_db-data", "Target": "/data", "ReadOnly": False},
        {"Type": "bind", "Source": "/etc/app.conf", "Target": "/app.conf", "ReadOnly": True},
    ]
    assert body["NetworkingConfig"]["EndpointsConfig"]["omnitron-shop-dev"]["Aliases"] == ["web-db", "database"]


def test_an_unrendered_template_never_reaches_a_container() -> None:
    svc = planned(env={"POSTGRES_PASSWORD": "${secret:password}"})
    with pytest.raises(ProvisionError, match="POSTGRES_PASSWORD is a template"):
        create_body(RuntimeSpec(service=svc), PLACEMENT)
    body = create_body(RuntimeSpec(service=svc, env={"POSTGRES_PASSWORD": "x"}), PLACEMENT)
    assert body["Env"] == ["POSTGRES_PASSWORD=x"]
    templated_cmd = planned(command=["redis-server", "--requirepass", "${secret:password}"])
    with pytest.raises(ProvisionError, match="command holds templates"):
        create_body(RuntimeSpec(service=templated_cmd), PLACEMENT)


def test_runtime_hash_follows_rendered_secrets() -> None:
    svc = planned(env={"PASSWORD": "${secret:password}"})
    one = runtime_hash(RuntimeSpec(service=svc, env={"PASSWORD": "a"}))
    assert one == runtime_hash(RuntimeSpec(service=svc, env={"PASSWORD": "a"}))
    assert one != runtime_hash(RuntimeSpec(service=svc, env={"PASSWORD": "b"}))


@pytest.mark.parametrize(("value", "expected"), [(1024, 1024), ("512m", 512 * 1024**2), ("1.5g", int(1.5 * 1024**3)), ("64MiB", 64 * 1024**2), ("100", 100)])
def test_memory_uses_docker_units(value: str | int, expected: int) -> None:
    assert memory_bytes(value, service="db") == expected


def test_bad_memory_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"db\.docker\.resources\.memory: invalid memory limit 'lots'"):
        memory_bytes("lots", service="db")


def test_state_from_inspect() -> None:
    data = {
        "Id": "c0ffee",
        "Config": {"Image": "example/db:1", "Labels": {"omnitron.service": "web/db", "omnitron.spec-hash": "abc", "omnitron.port.main": "5432"}},
        "State": {"Status": "exited", "ExitCode": 3, "StartedAt": "2024-01-01T00:00:00Z", "Health": {"Status": "unhealthy"}},
        "HostConfig": {"PortBindings": {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "15432"}]}},
    }
    state = from_inspect(data)
    assert state.name == "web/db"
    assert state.status == "exited"
    assert state.error == "exited with code 3"
    assert state.health == "unhealthy"
    assert state.ports == {"main": 15432}
    assert state.spec_hash == "abc"
    assert state.provider == "docker"
    data["State"] = {"Status": "created", "StartedAt": "0001-01-01T00:00:00Z"}
    state = from_inspect(data)
    assert state.started_at is None and state.health == "none" and state.error is None


def test_on_the_host_network_nothing_is_published_and_the_ports_are_the_host_ports() -> None:
    svc = planned(network={"name": "host"}, ports={"main": 5433})
    body = create_body(RuntimeSpec(service=svc), Placement(project="shop", stack="dev", network="host", volumes={}))
    assert body["HostConfig"]["NetworkMode"] == "host"
    assert body["HostConfig"]["PortBindings"] == {}
    assert body["ExposedPorts"] == {}
    assert body["NetworkingConfig"] == {"EndpointsConfig": {}}
    # the process listens on the planned host ports itself
    assert body["Labels"]["omnitron.port.main"] == "15432" and body["Labels"]["omnitron.port.admin"] == "18080"
    state = from_inspect({"Config": {"Labels": body["Labels"]}, "State": {"Status": "running"}, "HostConfig": {"NetworkMode": "host", "PortBindings": {}}})
    assert state.ports == {"admin": 18080, "main": 15432}
