"""From a runtime spec to the Engine API's Swarm ``ServiceSpec``. Pure: no I/O.

Secrets never go into the spec: a container env variable whose declared
value uses ``${secret:...}`` is left out, and the service's
``docker.secretFiles`` are mounted from Docker secrets instead (with their
own env and command). A service that would need a secret in its env or its
arguments is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from omnitron.api import ProvisionError, RuntimeSpec

from .mesh import Routing
from .naming import LABEL_PORT_PREFIX, LABEL_RUNTIME_HASH, LABEL_SPEC_HASH, service_labels

SECRET_REF = "${secret:"
STOP_GRACE_NS = 10_000_000_000
SECRET_MODE = 0o444
"""Secret files are read-only; readable by the image's own user (a server that drops root reads its config)."""


@dataclass(frozen=True)
class Placement:
    """What the provider decided after looking at the engine."""

    project: str
    stack: str
    network: str
    routing: Routing
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Path in the container -> (secret id, secret name)."""
    volumes: dict[str, str] = field(default_factory=dict)
    """Named volume ``source`` -> the Docker volume's name."""
    health: dict[str, Any] | None = None
    """The health check translated from the service's probes (see :mod:`.health`)."""


def options(spec: RuntimeSpec) -> Any:
    docker = spec.service.docker
    if docker is None or not docker.image:
        raise ProvisionError(f"service {spec.service.name}: planned without a docker image, the swarm provider cannot run it")
    return docker


def container_env(spec: RuntimeSpec) -> dict[str, str]:
    """The task's env: declared values that use no secret (rendered), then ``secretFiles.env``."""
    opts = options(spec)
    env: dict[str, str] = {}
    for key, template in opts.env.items():
        if SECRET_REF in template:
            if opts.secret_files is None:
                raise ProvisionError(
                    f"service {spec.service.name}: container env {key} uses a secret, and a Swarm service takes secrets only "
                    "as files: declare docker.secretFiles (the image's *_FILE variable, or a config file it reads)"
                )
            continue
        env[key] = spec.env.get(key, template)
    if spec.secret_files is not None:
        env.update(spec.secret_files.env)
    return env


def container_args(spec: RuntimeSpec) -> list[str] | None:
    """The task's arguments: ``secretFiles.command`` when given, else the command, which must hold no secret."""
    opts = options(spec)
    if spec.secret_files is not None and spec.secret_files.command:
        return list(spec.secret_files.command)
    if opts.stdin is not None:
        raise ProvisionError(
            f"service {spec.service.name}: docker.stdin feeds the container's stdin, which a Swarm service does not have: "
            "declare docker.secretFiles with a command reading the same configuration from a file"
        )
    if opts.command and any(SECRET_REF in arg for arg in opts.command):
        raise ProvisionError(
            f"service {spec.service.name}: docker.command passes a secret as an argument, which a Swarm service would show "
            "to anyone inspecting it: declare docker.secretFiles with a command reading it from a file"
        )
    if spec.command is not None:
        return list(spec.command)
    return list(opts.command) if opts.command else None


def secret_files(spec: RuntimeSpec) -> dict[str, str]:
    """Path in the container -> content (rendered, holding secrets)."""
    return dict(spec.secret_files.files) if spec.secret_files is not None else {}


def container_ports(spec: RuntimeSpec) -> dict[str, int]:
    """Named port -> port inside the container (:meth:`~omnitron.api.PlannedService.container_ports`)."""
    options(spec)
    return spec.service.container_ports()


def runtime_hash(spec: RuntimeSpec, placement: Placement) -> str:
    """Digest of the rendered env and arguments and of the secrets' versions (their names), never their values."""
    data = {"env": container_env(spec), "args": container_args(spec), "secrets": sorted(name for _, name in placement.secrets.values())}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def labels(spec: RuntimeSpec, placement: Placement) -> dict[str, str]:
    """The user's labels, then ours (ours cannot be overridden)."""
    svc = spec.service
    out = dict(options(spec).labels)
    out.update(service_labels(placement.project, placement.stack, svc.name))
    out[LABEL_SPEC_HASH] = svc.spec_hash
    out[LABEL_RUNTIME_HASH] = runtime_hash(spec, placement)
    for name, inside in container_ports(spec).items():
        out[f"{LABEL_PORT_PREFIX}{name}"] = str(inside)
    return out


_MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def memory_bytes(value: str | int, service: str) -> int:
    """Docker's memory notation (as ``docker run -m`` and the docker provider read it): bytes, ``512m``, ``2g``, ``1.5GiB``."""
    text = str(value).strip().lower().removesuffix("ib").removesuffix("b") if not isinstance(value, int) else ""
    number, unit = (text[:-1], text[-1]) if text[-1:].isalpha() else (text, "")
    try:
        amount = value if isinstance(value, int) else int(float(number) * _MEMORY_UNITS[unit])
    except (KeyError, ValueError):
        raise ProvisionError(f"service {service}: docker.resources.memory {value!r} is not a size such as 512m or 2g") from None
    if amount <= 0:
        raise ProvisionError(f"service {service}: docker.resources.memory must be positive")
    return amount
