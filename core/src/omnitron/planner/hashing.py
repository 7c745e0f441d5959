"""The last stage: one spec hash per service, the only place it is computed.

It covers everything that, changed, needs the service recreated: its
provider, run config, ports, bind address, preset config, secret keys (not
values), version, network mode, its runtime templates as rendered at plan time
(secrets masked, :func:`rendered_digest`), and a digest of every bind-mounted
file. The file digests are an input: the project reads the files
(:func:`mounted_files` says which) before this pure step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ..plan import RUN_PARTS, Plan, PlannedService


def mounted_files(plan: Plan) -> list[str]:
    """Host paths bind-mounted into the plan's services, whose digests :func:`hash_plan` needs."""
    return sorted({vol.source for svc in plan.services if svc.docker is not None for vol in svc.docker.volumes if vol.type == "bind"})


def rendered_digest(rendered: Mapping[str, str]) -> str:
    """A digest of a service's runtime templates as rendered at plan time (variable -> value, secrets masked)."""
    blob = json.dumps(dict(rendered), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def spec_hash(svc: PlannedService, file_digests: Mapping[str, str]) -> str:
    """A stable digest of everything that, changed, needs ``svc`` recreated."""
    parts = {name: part.model_dump(mode="json") if (part := getattr(svc, name)) is not None else None for name in RUN_PARTS}
    data = {
        **parts,
        "provider": svc.provider,
        "ports": svc.ports,
        "target_ports": svc.target_ports,
        "bind": svc.bind_address,
        "config": svc.config,
        "secrets": svc.secrets,
        "version": svc.version,
        "network_mode": svc.network_mode,
        "rendered": svc.rendered_digest,
        "mounts": {vol.source: file_digests.get(vol.source, "") for vol in (svc.docker.volumes if svc.docker else []) if vol.type == "bind"},
    }
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def hash_plan(plan: Plan, file_digests: Mapping[str, str]) -> Plan:
    """``plan`` with every service's spec hash set (in place; returned for chaining)."""
    for svc in plan.services:
        svc.spec_hash = spec_hash(svc, file_digests)
    return plan
