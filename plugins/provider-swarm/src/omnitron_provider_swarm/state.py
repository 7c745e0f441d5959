"""From a Swarm service and its tasks to omnitron's :class:`~omnitron.api.ContainerState`. Pure.

A service is ``running`` while one of its tasks' containers runs (its health
then says whether Swarm's own check passed yet); ``created`` until its
first task does; ``restarting`` while Swarm replaces a task (killed,
unhealthy, or a rolling update); ``exited`` when scaled to nothing
(``stop``); ``dead`` when its tasks cannot start (an image no node has, a
task that keeps failing).
"""

from __future__ import annotations

from typing import Any

from omnitron.api import ContainerState

from .naming import LABEL_PORT_PREFIX, LABEL_RUNTIME_HASH, LABEL_SERVICE, LABEL_SPEC_HASH

STARTING = {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
FAILED = {"failed", "rejected", "orphaned"}
FAILURES_BEFORE_DEAD = 3
_HEALTH = {"healthy", "unhealthy", "starting"}


def newest_first(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(tasks, key=lambda t: (t.get("Status") or {}).get("Timestamp", "") or t.get("CreatedAt", ""), reverse=True)


def task_state(task: dict[str, Any]) -> str:
    return str((task.get("Status") or {}).get("State", ""))


def running_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks whose container runs: ``running``, or ``starting`` with a container (Swarm holds a task there until its
    health check first passes; omnitron's own probes gate it meanwhile), newest first."""
    return [
        t for t in newest_first(tasks)
        if t.get("DesiredState") == "running" and (task_state(t) == "running" or (task_state(t) == "starting" and container_id(t)))
    ]


def task_labels(task: dict[str, Any]) -> dict[str, str]:
    return ((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels") or {}


def is_current(task: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether ``task`` runs the service's current spec (its hashes as labelled on the service)."""
    own = task_labels(task)
    return own.get(LABEL_SPEC_HASH) == labels.get(LABEL_SPEC_HASH) and own.get(LABEL_RUNTIME_HASH) == labels.get(LABEL_RUNTIME_HASH)


def task_error(task: dict[str, Any]) -> str:
    status = task.get("Status") or {}
    return str(status.get("Err") or status.get("Message") or task_state(task))


def waiting_for(tasks: list[dict[str, Any]]) -> str | None:
    """Why no task runs yet: the scheduler's word on a task it holds (``no suitable node``), else the last failure."""
    held = [t for t in newest_first(tasks) if t.get("DesiredState") == "running" and (t.get("Status") or {}).get("Err")]
    if held:
        return f"{task_state(held[0])}: {task_error(held[0])}"
    failed = [t for t in newest_first(tasks) if task_state(t) in FAILED]
    return task_error(failed[0]) if failed else None


def container_id(task: dict[str, Any]) -> str | None:
    return ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID") or None


def published_ports(service: dict[str, Any]) -> dict[str, int]:
    """Named port -> published port, from our ``omnitron.port.<name>`` labels and the endpoint's ports."""
    spec = service.get("Spec") or {}
    labels = spec.get("Labels") or {}
    by_target: dict[int, int] = {}
    for port in (spec.get("EndpointSpec") or {}).get("Ports") or []:
        if port.get("PublishedPort"):
            by_target.setdefault(int(port["TargetPort"]), int(port["PublishedPort"]))
    out: dict[str, int] = {}
    for key, inside in sorted(labels.items()):
        if key.startswith(LABEL_PORT_PREFIX) and int(inside) in by_target:
            out[key[len(LABEL_PORT_PREFIX) :]] = by_target[int(inside)]
    return out


def status_of(service: dict[str, Any], tasks: list[dict[str, Any]]) -> tuple[str, str | None]:
    """omnitron's status of the service, and an error when it has one."""
    replicas = (((service.get("Spec") or {}).get("Mode") or {}).get("Replicated") or {}).get("Replicas", 1)
    if replicas == 0:
        return "exited", None
    if running_tasks(tasks):
        return "running", None
    wanted = [t for t in newest_first(tasks) if t.get("DesiredState") == "running"]
    failed = [t for t in newest_first(tasks) if task_state(t) in FAILED]
    if failed and task_state(failed[0]) == "rejected" and (not wanted or task_state(wanted[0]) in FAILED):
        return "dead", task_error(failed[0])
    if len(failed) >= FAILURES_BEFORE_DEAD and (not wanted or task_state(wanted[0]) not in STARTING | {"running"}):
        return "dead", task_error(failed[0])
    if len(failed) >= FAILURES_BEFORE_DEAD:
        return "restarting", task_error(failed[0])
    return ("restarting" if len(tasks) > 1 else "created"), None


def from_service(service: dict[str, Any], tasks: list[dict[str, Any]], container: dict[str, Any] | None = None, *, provider: str = "swarm") -> ContainerState:
    """The state of one of our services; ``container``: its running task's container, when this engine has it."""
    spec = service.get("Spec") or {}
    labels = spec.get("Labels") or {}
    status, error = status_of(service, tasks)
    running = running_tasks(tasks)
    health = "none"
    if container is not None:
        raw = ((container.get("State") or {}).get("Health") or {}).get("Status")
        health = raw if raw in _HEALTH else "none"
    image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", "")
    return ContainerState(
        name=labels.get(LABEL_SERVICE) or spec.get("Name", ""),
        image=image.split("@", 1)[0],
        status=status,  # type: ignore[arg-type]
        container_id=container_id(running[0]) if running else None,
        ports=published_ports(service),
        health=health,  # type: ignore[arg-type]
        started_at=((running[0].get("Status") or {}).get("Timestamp")) if running else None,
        error=error,
        provider=provider,
        spec_hash=labels.get(LABEL_SPEC_HASH),
    )
