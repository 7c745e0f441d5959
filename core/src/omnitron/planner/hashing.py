"""The last stage: one spec hash and one config digest per service, the only place they are computed.

Every file a service reads from the host is digested, so a change is never
silently ignored; where the digest goes decides what a change does:

- the **spec hash** covers everything that, changed, needs the service
  recreated: its provider, run config, ports, bind address, preset config,
  secret keys (not values), version, network mode, its runtime templates as
  rendered at plan time (secrets masked, :func:`rendered_digest`), the env it
  gets from the services it uses, and a digest of every bind-mounted file;
- the **config digest** covers the config its preset applies to the running
  service by reloading it (:attr:`~omnitron.plan.PlannedService.reload_paths`,
  the preset's watched paths): a bind mount under one of them counts there,
  not in the spec hash, so a change reloads the service instead of recreating
  it. The engine records the digest a service last applied.

The service's files directory (what its preset generates) is output, not
input: digested into neither. The file digests are an input: the project
reads the files (:func:`mounted_files` says which) before this pure step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ..plan import RUN_PARTS, Plan, PlannedService


def _under(path: str, directory: str) -> bool:
    return bool(directory) and (path == directory or path.startswith(directory.rstrip("/") + "/"))


def _reloaded(svc: PlannedService, source: str) -> bool:
    return any(_under(source, root) for root in svc.reload_paths)


def _bind_sources(svc: PlannedService) -> list[str]:
    """Bind-mount sources of ``svc`` that are input (its files directory aside)."""
    volumes = svc.docker.volumes if svc.docker is not None else []
    return [vol.source for vol in volumes if vol.type == "bind" and not _under(vol.source, svc.files_dir)]


def mounted_files(plan: Plan) -> list[str]:
    """Host paths the plan's services read (bind mounts, reloaded config), whose digests :func:`hash_plan` needs."""
    return sorted({path for svc in plan.services for path in (*_bind_sources(svc), *svc.reload_paths)})


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
        "env_from": {var: b.model_dump(mode="json") for var, b in sorted(svc.env_from.items())},
        "mounts": {source: file_digests.get(source, "") for source in _bind_sources(svc) if not _reloaded(svc, source)},
    }
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def config_digest(svc: PlannedService, file_digests: Mapping[str, str]) -> str:
    """A digest of the config ``svc``'s preset reloads (``""`` when it reloads none)."""
    if not svc.reload_paths:
        return ""
    blob = json.dumps({path: file_digests.get(path, "") for path in svc.reload_paths}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def hash_plan(plan: Plan, file_digests: Mapping[str, str]) -> Plan:
    """``plan`` with every service's spec hash and config digest set (in place; returned for chaining)."""
    for svc in plan.services:
        svc.spec_hash = spec_hash(svc, file_digests)
        svc.config_digest = config_digest(svc, file_digests)
    return plan
