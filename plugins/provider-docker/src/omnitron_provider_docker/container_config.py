"""From a runtime spec to the Docker Engine API's container-create body. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from omnitron.api import ConfigError, DockerOptions, ProvisionError, RuntimeSpec

from .naming import (
    LABEL_PORT_PREFIX,
    LABEL_RUNTIME_HASH,
    LABEL_SPEC_HASH,
    network_alias,
    runtime_digest,
    service_labels,
)

_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt])?(?:i?b)?\s*$", re.IGNORECASE)
_MEMORY_UNITS = {None: 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass(frozen=True)
class Placement:
    """Where the container goes: decided by the provider, after it looked at the engine."""

    project: str
    stack: str
    network: str
    volumes: dict[str, str]
    """Named volume ``source`` as declared -> the Docker volume's name."""


def docker_options(spec: RuntimeSpec) -> DockerOptions:
    if spec.service.docker is None or not spec.service.docker.image:
        raise ProvisionError(f"service {spec.service.name}: planned without a docker image, the docker provider cannot run it")
    return spec.service.docker


def container_env(spec: RuntimeSpec) -> dict[str, str]:
    """The container's env: the rendered ``spec.env`` over the declared literal values.

    A declared value holding a template must arrive rendered: starting a
    container with ``${secret:...}`` as a password would be worse than failing.
    """
    opts = docker_options(spec)
    env: dict[str, str] = {}
    for key, value in opts.env.items():
        if key in spec.env:
            continue
        if "${" in value:
            raise ProvisionError(f"service {spec.service.name}: container env {key} is a template and was not rendered")
        env[key] = value
    env.update(spec.env)
    return env


def container_command(spec: RuntimeSpec) -> list[str] | None:
    """The rendered command (``spec.command``), else the declared one when it holds no template."""
    if spec.command is not None:
        return list(spec.command)
    declared = docker_options(spec).command
    if declared is None:
        return None
    if any("${" in arg for arg in declared):
        raise ProvisionError(f"service {spec.service.name}: docker.command holds templates and was not rendered")
    return list(declared)


def runtime_hash(spec: RuntimeSpec) -> str:
    """Digest of what the plan's spec hash cannot see: rendered env and command (secrets included), and stdin."""
    return runtime_digest(container_env(spec), container_command(spec), spec.stdin)


def memory_bytes(value: str | int, *, service: str) -> int:
    """Docker's memory notation: bytes, or ``512m``/``2g``/``1.5GiB`` (binary units, as ``docker run -m``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ConfigError("memory limit must be positive", path=f"{service}.docker.resources.memory")
        return value
    m = _MEMORY_RE.match(str(value))
    if not m:
        raise ConfigError(f"invalid memory limit {value!r}: use bytes or a size such as 512m or 2g", path=f"{service}.docker.resources.memory")
    unit = m.group(2).lower() if m.group(2) else None
    amount = int(float(m.group(1)) * _MEMORY_UNITS[unit])
    if amount <= 0:
        raise ConfigError("memory limit must be positive", path=f"{service}.docker.resources.memory")
    return amount


def requested_network(opts: DockerOptions) -> str | None:
    """The network named by ``docker.network.name`` (``host`` included), or ``None`` for the stack's own."""
    return opts.network.name if opts.network is not None and opts.network.name else None


def container_ports(spec: RuntimeSpec) -> dict[str, int]:
    """Named port -> port inside the container (:meth:`~omnitron.api.PlannedService.container_ports`)."""
    docker_options(spec)
    return spec.service.container_ports()


def container_labels(spec: RuntimeSpec, placement: Placement) -> dict[str, str]:
    """The user's labels, then ours (ours cannot be overridden)."""
    svc = spec.service
    labels = dict(docker_options(spec).labels)
    labels.update(service_labels(placement.project, placement.stack, svc.name))
    labels[LABEL_SPEC_HASH] = svc.spec_hash
    labels[LABEL_RUNTIME_HASH] = runtime_hash(spec)
    for name, inside in container_ports(spec).items():
        labels[f"{LABEL_PORT_PREFIX}{name}"] = str(inside)
    return labels


def create_body(spec: RuntimeSpec, placement: Placement) -> dict[str, Any]:
    """The ``POST /containers/create`` body for ``spec``."""
    svc = spec.service
    opts = docker_options(spec)
    env = container_env(spec)
    ports = container_ports(spec)

    mounts: list[dict[str, Any]] = []
    for vol in opts.volumes:
        if vol.type == "volume":
            mounts.append({"Type": "volume", "Source": placement.volumes[vol.source], "Target": vol.target, "ReadOnly": vol.read_only})
        else:
            mounts.append({"Type": "bind", "Source": vol.source, "Target": vol.target, "ReadOnly": vol.read_only})

    host_network = opts.uses_host_network()
    bindings: dict[str, list[dict[str, str]]] = {}
    for name, inside in sorted(ports.items()):
        if not host_network:
            bindings.setdefault(f"{inside}/tcp", []).append({"HostIp": svc.bind_address, "HostPort": str(svc.ports[name])})
    host_config: dict[str, Any] = {
        "PortBindings": bindings,
        "Mounts": mounts,
        "NetworkMode": placement.network,
        "RestartPolicy": {"Name": "no"},
        "Privileged": opts.privileged,
    }
    if opts.capabilities is not None:
        if opts.capabilities.add:
            host_config["CapAdd"] = list(opts.capabilities.add)
        if opts.capabilities.drop:
            host_config["CapDrop"] = list(opts.capabilities.drop)
    if opts.resources is not None:
        if opts.resources.memory is not None:
            host_config["Memory"] = memory_bytes(opts.resources.memory, service=svc.name)
        if opts.resources.cpus is not None:
            host_config["NanoCpus"] = int(opts.resources.cpus * 1_000_000_000)

    aliases = [network_alias(svc.name)]
    if opts.network is not None:
        aliases += [a for a in opts.network.aliases if a not in aliases]

    body: dict[str, Any] = {
        "Image": opts.image,
        "Env": [f"{key}={value}" for key, value in env.items()],
        "Labels": container_labels(spec, placement),
        "ExposedPorts": {} if host_network else {f"{inside}/tcp": {} for inside in sorted(set(ports.values()))},
        "HostConfig": host_config,
        # the host network has no DNS aliases: other containers cannot reach it by name
        "NetworkingConfig": {"EndpointsConfig": {} if host_network else {placement.network: {"Aliases": aliases}}},
    }
    command = container_command(spec)
    if command is not None:
        body["Cmd"] = command
    if opts.entrypoint is not None:
        body["Entrypoint"] = list(opts.entrypoint)
    if opts.user is not None:
        body["User"] = opts.user
    if opts.health_check is not None:
        body["Healthcheck"] = opts.health_check.engine_api()
    if spec.stdin is not None:
        # fed at every start by the provider, then closed (the process reads to its end)
        body.update(OpenStdin=True, StdinOnce=True, AttachStdin=True)
    return body


def check_spec(spec: RuntimeSpec) -> None:
    """Raise what :func:`create_body` would raise, before anything is created on the engine."""
    opts = docker_options(spec)
    volumes = {v.source: "-" for v in opts.volumes if v.type == "volume"}
    create_body(spec, Placement(project="-", stack="-", network="-", volumes=volumes))
