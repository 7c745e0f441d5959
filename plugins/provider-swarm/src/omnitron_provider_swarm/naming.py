"""Labels and names of what the swarm provider creates.

Labels are the identity: services, secrets, volumes and the network are
always found again by their ``omnitron.*`` labels (the docker provider's keys,
with ``omnitron.managed=swarm``). Names are cosmetic and
only have to be valid (Swarm service names are DNS labels: 63 characters;
secret names 64).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

LABEL_MANAGED = "omnitron.managed"
LABEL_PROJECT = "omnitron.project"
LABEL_STACK = "omnitron.stack"
LABEL_SERVICE = "omnitron.service"
LABEL_SPEC_HASH = "omnitron.spec-hash"
LABEL_RUNTIME_HASH = "omnitron.runtime-hash"
"""Digest of what the spec hash cannot see: the rendered env, arguments and the secrets' versions."""
LABEL_VOLUME = "omnitron.volume"
LABEL_FILE = "omnitron.secret-file"
"""On a Docker secret: the path it is mounted at."""
LABEL_PORT_PREFIX = "omnitron.port."
"""``omnitron.port.<name>`` on a service: the container port of that named port."""
MANAGED = "swarm"
"""The value of ``omnitron.managed`` on everything this provider creates: not ``true`` (the docker provider's), so
the docker provider never takes a task's container, a volume or the network for one of its own."""

SERVICE_NAME_MAX = 63
SECRET_NAME_MAX = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-") or "x"


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def _fit(name: str, limit: int, *identity: str) -> str:
    """``name``, or (too long) its start and a digest of ``identity``."""
    if len(name) <= limit:
        return name
    return f"{name[: limit - 9].rstrip('-')}-{_digest(*identity)}"


def base_name(project: str, stack: str) -> str:
    return f"omnitron-{_safe(project)}-{_safe(stack)}"


def network_name(project: str, stack: str) -> str:
    """The project's attachable overlay network (``-cluster``: never the docker provider's bridge of the same stack)."""
    return _fit(f"{base_name(project, stack)}-cluster", SERVICE_NAME_MAX, project, stack, "network")


def service_name(project: str, stack: str, service: str) -> str:
    return _fit(f"{base_name(project, stack)}-{_safe(service)}", SERVICE_NAME_MAX, project, stack, service)


def volume_name(project: str, stack: str, service: str, source: str) -> str:
    return _fit(f"{base_name(project, stack)}-{_safe(service)}-{_safe(source)}", SERVICE_NAME_MAX, project, stack, service, source)


def secret_name(project: str, stack: str, service: str, path: str, version: str) -> str:
    """A Docker secret's name: secrets cannot change, so each content has its own (``version``: a digest of it)."""
    stem = _safe(path.rsplit("/", 1)[-1])
    head = _fit(f"{base_name(project, stack)}-{_safe(service)}-{stem}", SECRET_NAME_MAX - len(version) - 1, project, stack, service, path)
    return f"{head}-{version}"


def secret_version(project: str, stack: str, service: str, path: str, content: str) -> str:
    """A digest of a secret file's content, salted with its identity (it names the secret's version)."""
    return _digest(project, stack, service, path, content, length=12)


def network_alias(service: str) -> str:
    """The DNS name other services of the stack reach it by."""
    return service.replace("/", "-")


def stack_labels(project: str, stack: str) -> dict[str, str]:
    return {LABEL_MANAGED: MANAGED, LABEL_PROJECT: project, LABEL_STACK: stack}


def service_labels(project: str, stack: str, service: str) -> dict[str, str]:
    return {**stack_labels(project, stack), LABEL_SERVICE: service}


def label_filter(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """A Docker API ``filters`` value matching every one of ``labels``."""
    return {"label": [f"{key}={value}" for key, value in labels.items()]}


def is_ours(labels: Mapping[str, str] | None, project: str, stack: str) -> bool:
    labels = labels or {}
    return labels.get(LABEL_MANAGED) == MANAGED and labels.get(LABEL_PROJECT) == project and labels.get(LABEL_STACK) == stack
