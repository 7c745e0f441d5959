"""From ``docker inspect`` data to omnitron's :class:`~omnitron.providers.ContainerState`. Pure."""

from __future__ import annotations

from typing import Any

from omnitron.api import ContainerState

from .naming import LABEL_PORT_PREFIX, LABEL_SERVICE, LABEL_SPEC_HASH

_STATUSES = {"created", "running", "paused", "restarting", "exited", "dead"}
_HEALTH = {"healthy", "unhealthy", "starting"}
_NEVER = "0001-01-01T00:00:00Z"


def status_of(raw: str | None) -> str:
    """Docker's state name as one of omnitron's (``removing`` counts as ``exited``)."""
    if raw in _STATUSES:
        return raw
    return "exited" if raw == "removing" else "dead"


def published_ports(labels: dict[str, str], port_bindings: dict[str, Any] | None) -> dict[str, int]:
    """Named port -> host port, from our ``omnitron.port.<name>`` labels and the configured bindings."""
    out: dict[str, int] = {}
    bindings = port_bindings or {}
    used: dict[str, int] = {}
    for key, inside in sorted(labels.items()):
        if not key.startswith(LABEL_PORT_PREFIX):
            continue
        name = key[len(LABEL_PORT_PREFIX) :]
        entries = bindings.get(f"{inside}/tcp") or []
        # several names may share one container port: hand their bindings out in name order
        index = used.get(inside, 0)
        if index < len(entries) and entries[index].get("HostPort"):
            out[name] = int(entries[index]["HostPort"])
            used[inside] = index + 1
    return out


def _ports(labels: dict[str, str], host_config: dict[str, Any]) -> dict[str, int]:
    """Named port -> host port: published ones, or (host network) the container's own."""
    if host_config.get("NetworkMode") == "host":
        return {key[len(LABEL_PORT_PREFIX) :]: int(value) for key, value in sorted(labels.items()) if key.startswith(LABEL_PORT_PREFIX)}
    return published_ports(labels, host_config.get("PortBindings"))


def from_inspect(data: dict[str, Any], *, provider: str = "docker") -> ContainerState:
    """The state of one of our containers, from ``GET /containers/{id}/json``."""
    config = data.get("Config") or {}
    labels = config.get("Labels") or {}
    state = data.get("State") or {}
    status = status_of(state.get("Status"))
    health_raw = (state.get("Health") or {}).get("Status")
    health = health_raw if health_raw in _HEALTH else "none"
    started = state.get("StartedAt")
    error = state.get("Error") or None
    if error is None and status in ("exited", "dead") and state.get("ExitCode"):
        error = f"exited with code {state['ExitCode']}"
    if state.get("OOMKilled"):
        error = "killed: out of memory" + (f" ({error})" if error else "")
    return ContainerState(
        name=labels.get(LABEL_SERVICE) or data.get("Name", "").lstrip("/"),
        image=config.get("Image", ""),
        status=status,  # type: ignore[arg-type]
        container_id=data.get("Id"),
        ports=_ports(labels, data.get("HostConfig") or {}),
        health=health,  # type: ignore[arg-type]
        started_at=started if started and started != _NEVER else None,
        error=error,
        provider=provider,
        spec_hash=labels.get(LABEL_SPEC_HASH),
    )
