"""The Swarm ``ServiceSpec`` body of a service (``POST /services/create`` and ``/update``). Pure: no I/O."""

from __future__ import annotations

from typing import Any

from omnitron.api import ProvisionError, RuntimeSpec

from .naming import LABEL_VOLUME, network_alias, service_labels
from .spec import (
    SECRET_MODE,
    STOP_GRACE_NS,
    Placement,
    container_args,
    container_env,
    container_ports,
    labels,
    memory_bytes,
    options,
)
from .mesh import service_routing


def mounts(spec: RuntimeSpec, placement: Placement) -> list[dict[str, Any]]:
    svc = spec.service
    out: list[dict[str, Any]] = []
    for vol in options(spec).volumes:
        if vol.type == "volume":
            volume_labels = {**service_labels(placement.project, placement.stack, svc.name), LABEL_VOLUME: vol.source}
            out.append({
                "Type": "volume", "Source": placement.volumes[vol.source], "Target": vol.target, "ReadOnly": vol.read_only,
                "VolumeOptions": {"Labels": volume_labels},
            })
        else:
            out.append({"Type": "bind", "Source": vol.source, "Target": vol.target, "ReadOnly": vol.read_only})
    return out


def container_spec(spec: RuntimeSpec, placement: Placement) -> dict[str, Any]:
    opts = options(spec)
    if opts.privileged:
        raise ProvisionError(f"service {spec.service.name}: a Swarm service cannot run privileged: use docker.capabilities.add")
    out: dict[str, Any] = {
        "Image": opts.image,
        "Env": [f"{key}={value}" for key, value in container_env(spec).items()],
        "Labels": labels(spec, placement),
        "Mounts": mounts(spec, placement),
        "StopGracePeriod": STOP_GRACE_NS,
        "Secrets": [
            {"File": {"Name": path, "UID": "0", "GID": "0", "Mode": SECRET_MODE}, "SecretID": secret_id, "SecretName": name}
            for path, (secret_id, name) in sorted(placement.secrets.items())
        ],
    }
    args = container_args(spec)
    if args is not None:
        out["Args"] = args
    if opts.entrypoint is not None:
        out["Command"] = list(opts.entrypoint)
    if opts.user is not None:
        out["User"] = opts.user
    if opts.capabilities is not None:
        if opts.capabilities.add:
            out["CapabilityAdd"] = list(opts.capabilities.add)
        if opts.capabilities.drop:
            out["CapabilityDrop"] = list(opts.capabilities.drop)
    if placement.health is not None:
        out["Healthcheck"] = placement.health
    return out


def resources(spec: RuntimeSpec) -> dict[str, Any]:
    limits = options(spec).resources
    out: dict[str, Any] = {}
    if limits is not None and limits.memory is not None:
        out["MemoryBytes"] = memory_bytes(limits.memory, spec.service.name)
    if limits is not None and limits.cpus is not None:
        out["NanoCPUs"] = int(limits.cpus * 1_000_000_000)
    return {"Limits": out} if out else {}


def endpoint_spec(spec: RuntimeSpec, placement: Placement) -> dict[str, Any]:
    """Ports published on the node (``host``) or the mesh (``ingress``); no ports on the host network."""
    opts = options(spec)
    deploy = opts.deploy
    routing = service_routing(placement.routing, deploy.publish_mode if deploy else None, deploy.endpoint_mode if deploy else None)
    if opts.uses_host_network():
        return {"Mode": "dnsrr"}
    svc = spec.service
    ports = [
        {"Protocol": "tcp", "TargetPort": inside, "PublishedPort": svc.ports[name], "PublishMode": routing.publish_mode}
        for name, inside in sorted(container_ports(spec).items())
    ]
    return {"Mode": routing.endpoint_mode, "Ports": ports}


def service_body(spec: RuntimeSpec, placement: Placement, *, name: str) -> dict[str, Any]:
    """The whole ``ServiceSpec`` of ``spec`` (a changed one rolls out as a rolling update)."""
    svc = spec.service
    opts = options(spec)
    deploy = opts.deploy
    replicas = deploy.replicas if deploy is not None else 1
    if opts.uses_host_network():
        networks = [{"Target": "host"}]
    else:
        aliases = [network_alias(svc.name), *(a for a in (opts.network.aliases if opts.network else []) if a != network_alias(svc.name))]
        networks = [{"Target": placement.network, "Aliases": aliases}]
    task: dict[str, Any] = {
        "ContainerSpec": container_spec(spec, placement),
        "Resources": resources(spec),
        "RestartPolicy": {"Condition": "any", "Delay": 1_000_000_000, "MaxAttempts": 0},
        "Placement": {"Constraints": list(deploy.constraints) if deploy else []},
        "Networks": networks,
    }
    return {
        "Name": name,
        "Labels": labels(spec, placement),
        "TaskTemplate": task,
        "Mode": {"Replicated": {"Replicas": replicas}},
        "UpdateConfig": {"Parallelism": 1, "Order": deploy.update_order if deploy else "stop-first", "FailureAction": "rollback", "Monitor": 5_000_000_000},
        "RollbackConfig": {"Parallelism": 1, "Order": "stop-first"},
        "EndpointSpec": endpoint_spec(spec, placement),
    }
