"""The swarm provider's pure parts: IPVS detection, the ServiceSpec body, task states (no engine needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnitron.api import ProvisionError, RuntimeSpec
from omnitron.testing import render_runtime_spec
from omnitron_provider_swarm.body import service_body
from omnitron_provider_swarm.mesh import Routing, default_routing, kernel_has_ipvs, service_routing
from omnitron_provider_swarm.spec import Placement
from omnitron_provider_swarm.state import status_of

PASSWORD = "pw-Swarm_Test_123456"


def test_ipvs_is_found_in_proc_sys_or_the_kernel_modules(tmp_path: Path) -> None:
    assert not kernel_has_ipvs(tmp_path, "6.1.0")
    (tmp_path / "lib/modules/6.1.0").mkdir(parents=True)
    (tmp_path / "lib/modules/6.1.0/modules.builtin").write_text("kernel/net/ipv4/tcp.ko\n")
    assert not kernel_has_ipvs(tmp_path, "6.1.0")
    (tmp_path / "lib/modules/6.1.0/modules.builtin").write_text("kernel/net/netfilter/ipvs/ip_vs.ko\n")
    assert kernel_has_ipvs(tmp_path, "6.1.0")
    other = tmp_path / "other"
    (other / "proc/net").mkdir(parents=True)
    (other / "proc/net/ip_vs").write_text("")
    assert kernel_has_ipvs(other, "x")


def test_without_ipvs_ports_go_on_the_node_and_names_resolve_by_dns() -> None:
    assert default_routing("auto", local=True, has_ipvs=False) == Routing("host", "dnsrr", default_routing("auto", local=True, has_ipvs=False).reason)
    assert default_routing("auto", local=True, has_ipvs=True).publish_mode == "ingress"
    assert default_routing("auto", local=False).endpoint_mode == "vip"
    assert default_routing("off").publish_mode == "host" and default_routing("on").endpoint_mode == "vip"
    # a service asking for dnsrr never publishes on the mesh (Swarm refuses that pair)
    assert service_routing(Routing("ingress", "vip"), None, "dnsrr").publish_mode == "host"


def test_a_bad_mesh_setting_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from omnitron.api import ConfigError

    monkeypatch.setenv("OMNITRON_SWARM_MESH", "maybe")
    with pytest.raises(ConfigError, match="OMNITRON_SWARM_MESH"):
        default_routing()


def _spec(omnitron_project, services: dict) -> dict[str, RuntimeSpec]:
    project = omnitron_project.write({"project": "p", "infrastructure": {"services": services}, "stacks": {"c": {"type": "cluster", "provider": "swarm"}}})
    plan = project.plan("c")
    return {svc.name: render_runtime_spec(svc, project.plugins, lambda key: PASSWORD, plan=plan) for svc in plan.services}


def _placement(spec: RuntimeSpec, routing: Routing = Routing("host", "dnsrr")) -> Placement:
    files = spec.secret_files.files if spec.secret_files else {}
    return Placement("p", "c", "net", routing, secrets={p: (f"id{i}", f"name{i}") for i, p in enumerate(files)}, volumes={"data": "vol"})


def test_postgres_takes_its_password_from_a_secret_file_never_from_env(omnitron_project) -> None:
    specs = _spec(omnitron_project, {"db": {"preset": "postgres", "config": {"image": "omnitron-test/postgres:15"}, "docker": {"resources": {"memory": "512m", "cpus": 0.5}, "deploy": {"replicas": 2, "constraints": ["node.role == manager"]}}}})
    body = service_body(specs["db"], _placement(specs["db"]), name="svc")
    assert PASSWORD not in json.dumps(body)
    container = body["TaskTemplate"]["ContainerSpec"]
    assert "POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password" in container["Env"]
    assert container["Secrets"] == [{"File": {"Name": "/run/secrets/postgres-password", "UID": "0", "GID": "0", "Mode": 0o444}, "SecretID": "id0", "SecretName": "name0"}]
    assert body["Mode"] == {"Replicated": {"Replicas": 2}}
    assert body["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    assert body["TaskTemplate"]["Resources"] == {"Limits": {"MemoryBytes": 512 * 1024**2, "NanoCPUs": 500_000_000}}
    assert body["EndpointSpec"]["Mode"] == "dnsrr" and body["EndpointSpec"]["Ports"][0]["PublishMode"] == "host"
    assert container["Mounts"][0]["Source"] == "vol" and container["Mounts"][0]["VolumeOptions"]["Labels"]["omnitron.volume"] == "data"
    assert body["Labels"]["omnitron.spec-hash"] == specs["db"].service.spec_hash


def test_redis_reads_its_password_from_a_config_file(omnitron_project) -> None:
    specs = _spec(omnitron_project, {"cache": {"preset": "redis"}})
    spec = specs["cache"]
    assert spec.secret_files is not None and spec.secret_files.files == {"/run/secrets/redis.conf": f'requirepass "{PASSWORD}"\n'}
    body = service_body(spec, _placement(spec), name="svc")
    assert body["TaskTemplate"]["ContainerSpec"]["Args"][:2] == ["redis-server", "/run/secrets/redis.conf"]
    assert "--databases" in body["TaskTemplate"]["ContainerSpec"]["Args"] and "-" not in body["TaskTemplate"]["ContainerSpec"]["Args"]
    assert PASSWORD not in json.dumps(body)


def test_stdin_without_secret_files_is_refused(omnitron_project) -> None:
    specs = _spec(omnitron_project, {"api": {"ports": {"http": 8080}, "docker": {"image": "x", "command": ["srv", "-"], "stdin": "conf"}}})
    with pytest.raises(ProvisionError, match="docker.stdin"):
        service_body(specs["api"], _placement(specs["api"]), name="svc")


def test_a_secret_in_env_without_secret_files_is_refused(omnitron_project) -> None:
    specs = _spec(omnitron_project, {"api": {"ports": {"http": 8080}, "secrets": {"token": {"secret": "k"}}, "docker": {"image": "x", "env": {"TOKEN": "${secret:token}"}}}})
    with pytest.raises(ProvisionError, match="container env TOKEN uses a secret"):
        service_body(specs["api"], _placement(specs["api"]), name="svc")


def test_privileged_is_refused(omnitron_project) -> None:
    specs = _spec(omnitron_project, {"api": {"ports": {"http": 8080}, "docker": {"image": "x", "privileged": True}}})
    with pytest.raises(ProvisionError, match="cannot run privileged"):
        service_body(specs["api"], _placement(specs["api"]), name="svc")


def _task(state: str, desired: str = "running", ts: str = "2026-01-01T00:00:00Z", err: str = "") -> dict:
    return {"DesiredState": desired, "Status": {"State": state, "Timestamp": ts, "Err": err}}


def test_task_states_become_service_states() -> None:
    service = {"Spec": {"Mode": {"Replicated": {"Replicas": 1}}}}
    assert status_of(service, [_task("running")]) == ("running", None)
    assert status_of(service, [_task("pending")]) == ("created", None)
    assert status_of(service, [_task("starting", ts="2"), _task("failed", "shutdown", ts="1")]) == ("restarting", None)
    assert status_of(service, [_task("rejected", ts="1", err="No such image: x")])[0] == "dead"
    assert status_of({"Spec": {"Mode": {"Replicated": {"Replicas": 0}}}}, []) == ("exited", None)


def test_auto_never_chooses_swarm(omnitron_project) -> None:
    from omnitron.api import PlanError

    project = omnitron_project.write({"project": "p", "infrastructure": {"services": {"db": {"preset": "postgres"}}}})
    installed = set(project.plugins.providers)
    if installed - {"swarm", "external"}:
        pytest.skip("another provider is installed: auto would choose it")
    with pytest.raises(PlanError, match="only the swarm provider can run it"):
        project.plan("dev")


def test_why_no_task_runs_names_the_schedulers_reason_first() -> None:
    from omnitron_provider_swarm.state import waiting_for

    held = _task("pending", ts="2", err="no suitable node (scheduling constraints not satisfied on 1 node)")
    assert waiting_for([held, _task("failed", "shutdown", ts="1", err="exit 1")]) == "pending: no suitable node (scheduling constraints not satisfied on 1 node)"
    assert waiting_for([_task("failed", "shutdown", err="task: non-zero exit (1)")]) == "task: non-zero exit (1)"
    assert waiting_for([_task("pending")]) is None


def test_a_redis_password_with_special_characters_survives_its_config_file(omnitron_project, tmp_path: Path) -> None:
    """The secret file as a real redis-server reads it: quotes, backslashes, ``$``, spaces and newlines escaped."""
    import shutil
    import subprocess

    import redis

    from omnitron.api import free_port, poll_attempts_sync

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    hard = "p@ss w$rd'\"\\ #${HOME}\tend\nline"
    project = omnitron_project.write({"project": "p", "infrastructure": {"services": {"cache": {"preset": "redis"}}}, "stacks": {"c": {"type": "cluster", "provider": "swarm"}}})
    plan = project.plan("c")
    spec = render_runtime_spec(plan.service("cache"), project.plugins, lambda key: hard, plan=plan)
    assert spec.secret_files is not None
    port = free_port()
    conf = spec.secret_files.files["/run/secrets/redis.conf"] + f'port {port}\nbind 127.0.0.1\ndir "{tmp_path}"\nsave ""\nappendonly no\n'
    with (tmp_path / "server.log").open("w") as sink:
        server = subprocess.Popen(["redis-server", "-"], stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        server.stdin.write(conf)  # type: ignore[union-attr]
        server.stdin.close()  # type: ignore[union-attr]
        for _ in poll_attempts_sync(60):
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with redis.Redis(port=port, password=hard, socket_timeout=5) as client:
                    assert client.ping()
                break
            except redis.ConnectionError:
                continue
        with pytest.raises(redis.AuthenticationError), redis.Redis(port=port, password=hard[:-1], socket_timeout=5) as client:
            client.ping()
    finally:
        server.kill()
        server.wait()
