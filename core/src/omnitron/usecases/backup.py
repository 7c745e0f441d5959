"""``omnitron backup create | list | restore``: each preset copies its service's data where it runs.

What is in a backup is the presets' business (:meth:`~omnitron.presets.Preset.backup`:
``pg_dump`` archives, a Redis RDB snapshot, ``mysqldump`` SQL); the core
writes the files with a manifest (services, sizes, sha256, omnitron version),
and on restore verifies every checksum before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackupError
from .loading import Stack

if TYPE_CHECKING:
    from ..backups import Manifest
    from ..plan import PlannedService
    from ..presets import Preset
    from ..providers import ProgressFn

Say = Callable[[str], None]


def backups_root(stack: Stack, where: Path | str | None = None) -> Path:
    """``--to``/``--from`` DIR, else ``<project>/.omnitron/backups``."""
    return Path(where) if where is not None else stack.project.state_dir / "backups"


def _preset(stack: Stack, svc: PlannedService) -> Preset | None:
    return stack.project.plugins.presets.get(svc.preset) if svc.preset else None


def backs_up(preset: Preset | None) -> bool:
    """Whether ``preset`` implements :meth:`~omnitron.presets.Preset.backup`."""
    from ..presets import Preset

    return preset is not None and type(preset).backup is not Preset.backup


def _targets(stack: Stack, names: list[str] | None) -> tuple[list[PlannedService], dict[str, str]]:
    """The services to back up, and those skipped with the reason."""
    from .waiting import services_to_wait_for

    chosen, skipped = [], {}
    for svc in services_to_wait_for(stack, names):
        if not stack.manages(svc.provider):
            skipped[svc.name] = f"runs with the {svc.provider} provider: omnitron does not run it (back it up where it runs)"
        elif not backs_up(_preset(stack, svc)):
            skipped[svc.name] = f"preset {svc.preset} has no backup" if svc.preset else "a custom service: no preset to back it up"
        else:
            chosen.append(svc)
    return chosen, skipped


async def _healthy_handle(session: Any, svc: PlannedService) -> Any:
    from ..engine.gate import check_once, checks_for

    provider = await session.provider(svc.provider)
    handle = session.handle(svc, provider)
    result = await check_once(handle, checks_for(svc, session.plugins.probes), 10.0)
    if not result.ok:
        raise BackupError(f"service {svc.name} is not healthy ({result.detail}): `omnitron infra up` first")
    return handle


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.manifest.as_dict()}


async def create_backup(stack: Stack, services: list[str] | None = None, *, to: Path | str | None = None, say: Say | None = None) -> BackupResult:
    """Back up ``services`` (every one whose preset can, when ``None``) of the running stack.

    :raises BackupError: a service to back up is not healthy, or nothing can be backed up.
    """
    from .. import __version__
    from ..backups import Manifest, ServiceBackup, new_id, now_iso, write_backup
    from ..engine.locking import locked
    from ..engine.session import Session

    say = say or (lambda line: None)
    root = backups_root(stack, to)
    chosen, skipped = _targets(stack, services)
    if not chosen:
        raise BackupError("nothing to back up: " + ("; ".join(f"{n}: {r}" for n, r in skipped.items()) or "the stack has no services"))
    manifest = Manifest(new_id(root, stack.name), now_iso(), __version__, stack.plan.project, stack.name, skipped=skipped)
    files: dict[str, list[Any]] = {}
    async with Session(stack.project, stack.plan) as session, locked(stack.project, session.progress):
        for svc in chosen:
            preset = _preset(stack, svc)
            handle = await _healthy_handle(session, svc)
            say(f"{svc.name}: backing up ({svc.preset}, {svc.provider})")
            files[svc.name] = list(await preset.backup(handle) or [])
            manifest.services[svc.name] = ServiceBackup(svc.preset or "", svc.provider)
    return BackupResult(write_backup(root, manifest, files), manifest)


def list_backups(stack: Stack, where: Path | str | None = None) -> list[BackupResult]:
    """Every backup in ``where`` (the project's backups directory by default), oldest first."""
    from ..backups import list_backups as scan

    return [BackupResult(path, manifest) for path, manifest in scan(backups_root(stack, where))]


@dataclass
class RestorePlan:
    """A verified backup and what restoring it replaces, service by service."""

    path: Path
    manifest: Manifest
    services: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = []
        for name in self.services:
            backup = self.manifest.services[name]
            what = ", ".join(f"{f['kind']} {f['meta'].get('database', f['name'])}" for f in backup.files) or "no files"
            out.append(f"{name} ({backup.preset}): its current data is replaced by {what}")
        out += [f"{name}: not restored ({why})" for name, why in self.skipped.items()]
        return out


def plan_restore(stack: Stack, backup_id: str | None = None, *, source: Path | str | None = None, services: list[str] | None = None) -> RestorePlan:
    """Find the backup (the newest when ``backup_id`` is ``None``), verify every checksum and match its services to the plan.

    :raises BackupError: no such backup, a file is missing or differs from the manifest, or it is another project's.
    """
    from ..backups import find_backup, read_manifest, verify

    path = find_backup(backups_root(stack, source), backup_id)
    manifest = read_manifest(path)
    problems = verify(path, manifest)
    if problems:
        raise BackupError(f"backup {manifest.id} does not match its manifest, nothing restored: {'; '.join(problems[:3])}" + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
    if manifest.project != stack.plan.project:
        raise BackupError(f"backup {manifest.id} is of project {manifest.project!r}, this is {stack.plan.project!r}: nothing restored")
    wanted = list(services or manifest.services)
    unknown = [n for n in wanted if n not in manifest.services]
    if unknown:
        raise BackupError(f"backup {manifest.id} holds no service {unknown[0]!r}; it holds: {', '.join(manifest.services) or '(none)'}")
    out = RestorePlan(path, manifest)
    planned = {s.name: s for s in stack.plan.services}
    for name in wanted:
        svc = planned.get(name)
        if svc is None:
            out.skipped[name] = f"not a service of stack {stack.name}"
        elif svc.preset != manifest.services[name].preset:
            out.skipped[name] = f"the backup is of preset {manifest.services[name].preset}, the service is {svc.preset or 'custom'}"
        elif not stack.manages(svc.provider):
            out.skipped[name] = f"runs with the {svc.provider} provider: omnitron does not run it"
        else:
            out.services.append(name)
    return out


async def restore_backup(stack: Stack, plan: RestorePlan, *, progress: ProgressFn | None = None, say: Say | None = None) -> Any:
    """Restore a verified :class:`RestorePlan`: bring its services up, let each preset put its data back, then bring them up again.

    :returns: the :class:`~omnitron.engine.provision.UpResult` of the final up (the restored services healthy again).
    """
    from ..backups import load_files
    from ..engine.locking import locked
    from ..engine.provision import up
    from ..engine.session import Session

    say = say or (lambda line: None)
    if not plan.services:
        raise BackupError("nothing to restore: " + "; ".join(f"{n}: {r}" for n, r in plan.skipped.items()))
    await up(stack.project, stack.plan, services=plan.services, progress=progress)
    async with Session(stack.project, stack.plan, progress=progress) as session:
        async with locked(stack.project, session.progress):
            for name in plan.services:
                svc = stack.plan.service(name)
                handle = await _healthy_handle(session, svc)
                say(f"{name}: restoring {len(plan.manifest.services[name].files)} file(s) from backup {plan.manifest.id}")
                await _preset(stack, svc).restore(handle, load_files(plan.path, plan.manifest.services[name]))
    result = await up(stack.project, stack.plan, services=plan.services, progress=progress, check=False)
    if not result.ok:
        raise BackupError(f"restored, but the services did not come back healthy: {result.error_message()}")
    return result
