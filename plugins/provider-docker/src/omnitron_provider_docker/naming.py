"""Labels and names of what the docker provider creates.

Labels are the identity: containers, volumes and networks are always found
again by their ``omnitron.*`` labels. Names are cosmetic (what ``docker ps``
shows) and only have to be valid and unlikely to collide.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

LABEL_MANAGED = "omnitron.managed"
LABEL_PROJECT = "omnitron.project"
LABEL_STACK = "omnitron.stack"
LABEL_SERVICE = "omnitron.service"
LABEL_SPEC_HASH = "omnitron.spec-hash"
LABEL_RUNTIME_HASH = "omnitron.runtime-hash"
"""Digest of the rendered container env and command (a rotated secret changes it)."""
LABEL_VOLUME = "omnitron.volume"
"""On a named volume: the ``source`` it was declared with."""
LABEL_PORT_PREFIX = "omnitron.port."
"""``omnitron.port.<name>`` on a container: the container port of that named port."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(text: str) -> str:
    """``text`` as a valid Docker object name part: ``/`` and other unsafe characters become ``_``."""
    return _UNSAFE.sub("_", text)


def base_name(project: str, stack: str) -> str:
    """``omnitron-<project>-<stack>``: the project network, and the prefix of every name."""
    return f"omnitron-{safe_name(project)}-{safe_name(stack)}"


def network_name(project: str, stack: str) -> str:
    return base_name(project, stack)


def container_name(project: str, stack: str, service: str) -> str:
    return f"{base_name(project, stack)}-{safe_name(service)}"


def volume_name(project: str, stack: str, service: str, source: str) -> str:
    return f"{base_name(project, stack)}-{safe_name(service)}-{safe_name(source)}"


def disambiguated(name: str, *identity: str) -> str:
    """``name`` with a short digest of ``identity``: used when another owner holds ``name``."""
    digest = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:8]
    return f"{name}-{digest}"


def network_alias(service: str) -> str:
    """The DNS name other containers of the stack reach the service by."""
    return service.replace("/", "-")


def stack_labels(project: str, stack: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_PROJECT: project, LABEL_STACK: stack}


def service_labels(project: str, stack: str, service: str) -> dict[str, str]:
    return {**stack_labels(project, stack), LABEL_SERVICE: service}


def label_filter(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """A Docker API ``filters`` value matching every one of ``labels``."""
    return {"label": [f"{key}={value}" for key, value in labels.items()]}


def is_managed(labels: Mapping[str, str] | None) -> bool:
    return bool(labels) and (labels or {}).get(LABEL_MANAGED) == "true"


def owner_of(labels: Mapping[str, str] | None) -> str:
    """Who owns an object, for messages: ``project p, stack s, service x`` or ``not omnitron``."""
    labels = labels or {}
    if not is_managed(labels):
        return "not managed by omnitron"
    parts = [f"project {labels.get(LABEL_PROJECT, '?')}", f"stack {labels.get(LABEL_STACK, '?')}"]
    if LABEL_SERVICE in labels:
        parts.append(f"service {labels[LABEL_SERVICE]}")
    return "omnitron " + ", ".join(parts)


def runtime_digest(env: Mapping[str, str], command: list[str] | None, stdin: bytes | None) -> str:
    """Digest of a container's rendered env, command and stdin (the ``omnitron.runtime-hash`` label; secrets included)."""
    data: dict[str, object] = {"env": dict(env), "command": command}
    if stdin is not None:
        data["stdin"] = hashlib.sha256(stdin).hexdigest()
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
