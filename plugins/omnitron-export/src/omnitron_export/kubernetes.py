"""A stack as Kubernetes manifests. Pure: the plan (and the contents of bind-mounted files) in, documents out.

Per service: a StatefulSet with a PersistentVolumeClaim template per named
volume (a service with volumes is stateful), a Deployment otherwise; a
Service with one port per declared port (its name is the ``${host}`` apps
use); the service's secret files mounted from a Secret that is *referenced*
(name and keys), never written: :attr:`Export.commands` creates it from the
secret store; liveness and readiness probes from its health checks (as they
run inside the container); resource limits; labels; a ConfigMap per
bind-mounted config file or directory. Per app with a ``migrate`` command: a
Job (its image is the app's, ``<project>/<app>:latest`` until you retag it;
its env comes from a Secret, created by a printed command too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omnitron.api import ContainerProbe, Plan, PlannedService, container_probes

from . import common
from .common import Rendering, SecretRef, dns_name

STORAGE_REQUEST = "1Gi"
"""What each volume's claim requests (edit the manifest to change it)."""


READER = "omnitron infra export"
"""The command that prints one Secret's content (``--secret NAME/KEY``), as the secret commands call it."""


@dataclass
class Export:
    """Files to write (name -> documents), the referenced Secrets and the commands that create them."""

    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secrets: list[SecretRef] = field(default_factory=list)
    reader: str = READER
    """How the commands ask for a Secret's content: ``omnitron infra export`` with the options of this export."""

    def content(self, name: str, key: str) -> str | None:
        """The content of key ``key`` of the Secret ``name`` (as rendered: with values when rendered with them)."""
        for ref in self.secrets:
            if ref.name == name and key in ref.keys:
                return ref.keys[key]
        return None


def labels(plan: Plan, svc_name: str, spec_hash: str = "") -> dict[str, str]:
    out = {
        "app.kubernetes.io/name": dns_name(svc_name), "app.kubernetes.io/part-of": dns_name(plan.project),
        "app.kubernetes.io/managed-by": "omnitron", "omnitron.project": plan.project, "omnitron.stack": plan.stack,
        "omnitron.service": dns_name(svc_name),
    }
    if spec_hash:
        out["omnitron.spec-hash"] = spec_hash
    return out


def probe(p: ContainerProbe, hc: Any) -> dict[str, Any]:
    if p.kind == "tcp":
        action: dict[str, Any] = {"tcpSocket": {"port": p.port}}
    elif p.kind == "http":
        action = {"httpGet": {"path": p.path, "port": p.port, "scheme": p.scheme.upper()}}
    else:
        action = {"exec": {"command": list(p.command)}}
    timing = {
        "periodSeconds": max(1, (hc.interval if hc else 5_000) // 1000),
        "timeoutSeconds": max(1, (hc.timeout if hc else 10_000) // 1000),
        "failureThreshold": max(1, hc.retries if hc else 10),
    }
    return {**action, **timing}


def _probes(svc: PlannedService, probes: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    found, missing = container_probes(svc, probes, common.container_ports(svc))
    if missing:
        notes.append(f"service {svc.name}: probe {', '.join(missing)} has no in-container form, not exported")
    if not found:
        return {}
    # Kubernetes takes one action per probe: the first for liveness, the last for readiness
    return {"livenessProbe": {**probe(found[0], svc.health_check), "initialDelaySeconds": 30}, "readinessProbe": probe(found[-1], svc.health_check)}


def _resources(svc: PlannedService) -> dict[str, Any]:
    limits = svc.docker.resources if svc.docker else None
    out: dict[str, Any] = {}
    if limits is not None and limits.memory is not None:
        out["memory"] = str(common.memory(limits.memory, svc.name))
    if limits is not None and limits.cpus is not None:
        out["cpu"] = f"{int(limits.cpus * 1000)}m"
    return {"limits": out} if out else {}


def _config_maps(plan: Plan, svc: PlannedService, files: Mapping[str, Mapping[str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """ConfigMaps of the bind-mounted files, their volumes and their mounts."""
    assert svc.docker is not None
    maps, volumes, mounts = [], [], []
    for i, vol in enumerate(v for v in svc.docker.volumes if v.type == "bind"):
        name = f"{dns_name(plan.project)}-{dns_name(svc.name)}-config-{i}"
        content = dict(files.get(vol.source, {}))
        maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels(plan, svc.name)}, "data": content})
        volumes.append({"name": f"config-{i}", "configMap": {"name": name}})
        single = list(content) == [""] or (len(content) == 1 and vol.source.endswith(next(iter(content))))
        mount: dict[str, Any] = {"name": f"config-{i}", "mountPath": vol.target, "readOnly": True}
        if single:
            mount["subPath"] = next(iter(content))
        mounts.append(mount)
    return maps, volumes, mounts


def _container(renderer: Rendering, cplan: Plan, svc: PlannedService, secret: SecretRef, probes: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    assert svc.docker is not None
    plain, secret_env = common.split_env(renderer, cplan, svc)
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    for key, content in secret_env.items():
        secret.keys[key] = content
        env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret.name, "key": key}}})
    container: dict[str, Any] = {"name": dns_name(svc.name), "image": svc.docker.image}
    if env:
        container["env"] = env
    arguments = common.args(renderer, cplan, svc)
    if arguments is not None:
        container["args"] = arguments
    if svc.docker.entrypoint:
        container["command"] = list(svc.docker.entrypoint)
    ports = common.container_ports(svc)
    if ports:
        container["ports"] = [{"name": dns_name(n)[:15], "containerPort": p, "protocol": "TCP"} for n, p in sorted(ports.items())]
    if svc.docker.capabilities is not None:
        container["securityContext"] = {"capabilities": {k: v for k, v in (("add", svc.docker.capabilities.add), ("drop", svc.docker.capabilities.drop)) if v}}
    container.update(_probes(svc, probes, notes))
    resources = _resources(svc)
    if resources:
        container["resources"] = resources
    return container


def workload(renderer: Rendering, plan: Plan, cplan: Plan, svc: PlannedService, probes: Mapping[str, Any], files: Mapping[str, Mapping[str, str]], export: Export) -> list[dict[str, Any]]:
    """The documents of one service."""
    assert svc.docker is not None
    name = dns_name(svc.name)
    secret = SecretRef(f"{dns_name(plan.project)}-{name}")
    container = _container(renderer, cplan, svc, secret, probes, export.notes)
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    for path, content in sorted(common.secret_files(renderer, cplan, svc).items()):
        key = common.secret_key(path)
        secret.keys[key] = content
        mounts.append({"name": "secrets", "mountPath": path, "subPath": key, "readOnly": True})
    if any(m["name"] == "secrets" for m in mounts):
        volumes.append({"name": "secrets", "secret": {"secretName": secret.name, "defaultMode": 0o444}})
    maps, config_volumes, config_mounts = _config_maps(plan, svc, files)
    volumes += config_volumes
    mounts += config_mounts
    named = [v for v in svc.docker.volumes if v.type == "volume"]
    mounts += [{"name": dns_name(v.source), "mountPath": v.target, "readOnly": v.read_only} for v in named]
    if mounts:
        container["volumeMounts"] = mounts
    own = labels(plan, svc.name, svc.spec_hash)
    pod: dict[str, Any] = {"containers": [container]}
    if volumes:
        pod["volumes"] = volumes
    if svc.docker.network is not None and svc.docker.network.name == "host":
        pod["hostNetwork"] = True
    replicas = svc.docker.deploy.replicas if svc.docker.deploy else 1
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name, "omnitron.project": plan.project}}, "template": {"metadata": {"labels": own}, "spec": pod}}
    kind = "StatefulSet" if named else "Deployment"
    if named:
        spec["serviceName"] = name
        spec["volumeClaimTemplates"] = [
            {"metadata": {"name": dns_name(v.source), "labels": labels(plan, svc.name)}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": STORAGE_REQUEST}}}}
            for v in named
        ]
    docs = [*maps, {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "labels": own}, "spec": spec}]
    ports = common.container_ports(svc)
    if ports:
        docs.append({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels(plan, svc.name)},
            "spec": {"selector": {"app.kubernetes.io/name": name, "omnitron.project": plan.project},
                     "ports": [{"name": dns_name(n)[:15], "port": p, "targetPort": p, "protocol": "TCP"} for n, p in sorted(ports.items())]},
        })
    if secret.keys:
        export.secrets.append(secret)
        export.commands.append(secret.kubectl(export.reader))
    return docs


def migrate_job(renderer: Rendering, plan: Plan, cplan: Plan, app: str, allocations: Mapping[str, Mapping[str, str]], export: Export) -> list[dict[str, Any]]:
    """A Job running ``app``'s ``migrate`` command, its env from the Secret ``<project>-<app>-env``."""
    app_plan = plan.apps[app]
    assert app_plan.migrate is not None
    env = common.app_env(renderer, cplan, app, {k: dict(v) for k, v in allocations.items()})
    secret = SecretRef(f"{dns_name(plan.project)}-{dns_name(app)}-env", dict(env))
    if env:
        export.secrets.append(secret)
        export.commands.append(secret.kubectl(export.reader))
    pending = [k for k, v in env.items() if "<pending>" in v]
    if pending:
        export.notes.append(f"app {app}: {', '.join(pending)} hold values known only after `omnitron infra up` (run it, then export again)")
    container: dict[str, Any] = {"name": "migrate", "image": f"{dns_name(plan.project)}/{dns_name(app)}:latest", "command": list(app_plan.migrate)}
    if env:
        container["envFrom"] = [{"secretRef": {"name": secret.name}}]
    meta = {"name": f"{dns_name(app)}-migrate", "labels": {**labels(plan, app), "app.kubernetes.io/component": "migrate"}}
    return [{"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"backoffLimit": 3, "template": {"metadata": {"labels": meta["labels"]}, "spec": {"restartPolicy": "Never", "containers": [container]}}}}]


def manifests(plan: Plan, renderer: Rendering, probes: Mapping[str, Any], *, files: Mapping[str, Mapping[str, str]] | None = None, allocations: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None, reader: str = READER) -> Export:
    """Every manifest of ``plan``'s stack.

    :param files: bind-mount source -> file name -> content (what the ConfigMaps hold).
    :param allocations: app -> service -> recorded ``${alloc:...}`` values (a Redis index known after ``up``).
    :param reader: how the secret commands ask for a Secret's content (see :attr:`Export.reader`).
    """
    export = Export(reader=reader)
    cplan = common.cluster_plan(plan)
    for svc in cplan.services:
        export.files[f"{dns_name(svc.name)}.yaml"] = workload(renderer, plan, cplan, svc, probes, files or {}, export)
    for app, app_plan in sorted(plan.apps.items()):
        if app_plan.migrate:
            export.files[f"{dns_name(app)}-migrate.yaml"] = migrate_job(renderer, plan, cplan, app, (allocations or {}).get(app, {}), export)
    return export
