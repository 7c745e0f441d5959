"""A stack as a compose file (format 3.8), for ``docker stack deploy`` or another tool. Pure.

Secrets are external Docker secrets (references: ``docker secret create``
commands are printed, values never written); services take them as files.
Ports are published on 127.0.0.1 as planned; health checks are the service's
probes as they run inside the container.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnitron.api import Plan, PlannedService, container_probes

from . import common
from .common import Rendering, SecretRef, dns_name
from .kubernetes import READER, Export, labels


def _healthcheck(svc: PlannedService, probes: Mapping[str, Any], notes: list[str]) -> dict[str, Any] | None:
    found, missing = container_probes(svc, probes, common.container_ports(svc))
    if missing:
        notes.append(f"service {svc.name}: probe {', '.join(missing)} has no in-container form, not exported")
    if not found:
        return None
    hc = svc.health_check
    return {
        "test": ["CMD-SHELL", " && ".join(f"( {p.shell()} )" for p in found)],
        "interval": f"{max(1, (hc.interval if hc else 5000) // 1000)}s",
        "timeout": f"{max(1, (hc.timeout if hc else 10000) // 1000)}s",
        "retries": max(1, hc.retries if hc else 10),
        "start_period": "60s",
    }


def _deploy(svc: PlannedService) -> dict[str, Any]:
    assert svc.docker is not None
    deploy = svc.docker.deploy
    out: dict[str, Any] = {"replicas": deploy.replicas if deploy else 1}
    if deploy and deploy.constraints:
        out["placement"] = {"constraints": list(deploy.constraints)}
    if deploy and deploy.endpoint_mode:
        out["endpoint_mode"] = deploy.endpoint_mode
    limits = svc.docker.resources
    if limits is not None and (limits.memory is not None or limits.cpus is not None):
        out["resources"] = {"limits": {k: v for k, v in (("memory", str(common.memory(limits.memory, svc.name)) if limits.memory is not None else None), ("cpus", str(limits.cpus) if limits.cpus else None)) if v}}
    return out


def service(renderer: Rendering, plan: Plan, cplan: Plan, svc: PlannedService, probes: Mapping[str, Any], export: Export, top: dict[str, Any]) -> dict[str, Any]:
    assert svc.docker is not None
    docker = svc.docker
    plain, secret_env = common.split_env(renderer, cplan, svc)
    if secret_env:
        export.notes.append(f"service {svc.name}: {', '.join(secret_env)} would need a secret in env, which a compose file does not carry: declare docker.secretFiles")
    out: dict[str, Any] = {"image": docker.image, "labels": labels(plan, svc.name, svc.spec_hash), "deploy": _deploy(svc)}
    if plain:
        out["environment"] = plain
    arguments = common.args(renderer, cplan, svc)
    if arguments is not None:
        out["command"] = arguments
    if docker.entrypoint:
        out["entrypoint"] = list(docker.entrypoint)
    if docker.network is not None and docker.network.name == "host":
        out["network_mode"] = "host"
    else:
        out["networks"] = {"default": {"aliases": [dns_name(svc.name)]}}
        host_ports = plan.service(svc.name).ports
        out["ports"] = [f"{svc.bind_address}:{host_ports[n]}:{p}" for n, p in sorted(common.container_ports(svc).items())]
    volumes = []
    for vol in docker.volumes:
        if vol.type == "volume":
            name = f"{dns_name(svc.name)}-{dns_name(vol.source)}"
            top["volumes"][name] = {"labels": labels(plan, svc.name)}
            volumes.append(f"{name}:{vol.target}{':ro' if vol.read_only else ''}")
        else:
            volumes.append(f"{vol.source}:{vol.target}{':ro' if vol.read_only else ''}")
    if volumes:
        out["volumes"] = volumes
    refs = []
    for path, content in sorted(common.secret_files(renderer, cplan, svc).items()):
        ref = SecretRef(f"{dns_name(plan.project)}-{dns_name(svc.name)}", {common.secret_key(path): content})
        name = f"{ref.name}-{common.secret_key(path).replace('.', '-')}"
        top["secrets"][name] = {"external": True}
        refs.append({"source": name, "target": path, "mode": 0o444})
        export.secrets.append(ref)
        export.commands.extend(ref.docker(export.reader))
    if refs:
        out["secrets"] = refs
    health = _healthcheck(svc, probes, export.notes)
    if health is not None:
        out["healthcheck"] = health
    return out


def compose_file(plan: Plan, renderer: Rendering, probes: Mapping[str, Any], *, reader: str = READER) -> Export:
    export = Export(reader=reader)
    cplan = common.cluster_plan(plan)
    top: dict[str, Any] = {"version": "3.8", "services": {}, "volumes": {}, "secrets": {}, "networks": {"default": {"driver": "overlay", "attachable": True}}}
    for svc in cplan.services:
        top["services"][dns_name(svc.name)] = service(renderer, plan, cplan, svc, probes, export, top)
    for key in ("volumes", "secrets"):
        if not top[key]:
            del top[key]
    export.files["compose.yaml"] = [top]
    return export
