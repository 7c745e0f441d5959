"""``down``: stop everything of this project and stack; with ``volumes``, delete its data too (and the files presets generated for it). Also: which providers hold the stack's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..tasks import combined, task_group
from .maintenance import APPLIED_SETTING

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..project import Project
    from ..providers import ProgressFn, Provider
    from .session import Session

@dataclass
class DownResult:
    removed: dict[str, str] = field(default_factory=dict)
    """Service -> provider, for everything stopped and removed."""
    data_deleted: bool = False
    forgotten: list[str] = field(default_factory=list)
    """Services whose allocations were forgotten (their data is gone)."""
    untouched: list[str] = field(default_factory=list)
    """Services of providers omnitron does not run (external servers): not ours to stop."""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "dataDeleted": self.data_deleted, "forgotten": self.forgotten, "untouched": self.untouched, "warnings": self.warnings}


async def managed_providers(session: Session) -> dict[str, Provider]:
    """Every provider that may hold something of this stack: those the plan uses, and any other installed one that is available."""
    out: dict[str, Provider] = {}
    planned = {svc.provider for svc in session.plan.services}
    for name, cls in session.plugins.providers.items():
        if not cls.manages_lifecycle:
            continue
        if name not in planned:
            try:
                if not await cls.available():
                    continue
            except Exception:
                continue
        out[name] = await session.provider(name)
    return out


async def run_by_other_providers(session: Session, services: list[PlannedService]) -> str:
    """What to say of ``services`` that already run with a provider other than the planned one (``up --provider X`` earlier)."""
    by_provider: dict[str, list[str]] = {}
    planned = {svc.name: svc.provider for svc in services}
    for pname, provider in (await managed_providers(session)).items():
        try:
            held = await provider.list_managed()
        except Exception:  # it cannot say: the collision stands as reported
            continue
        for name, st in held.items():
            if name in planned and planned[name] != pname and st.status == "running":
                by_provider.setdefault(pname, []).append(name)
    return "; ".join(
        f"{', '.join(sorted(names))} already run{'s' if len(names) == 1 else ''} with the {pname} provider (the plan says "
        f"{', '.join(sorted({planned[n] for n in names}))}): pass --provider {pname}, or `omnitron infra down` first"
        for pname, names in sorted(by_provider.items())
    )


async def down(project: Project, plan: Plan, *, volumes: bool = False, progress: ProgressFn | None = None, session: Session | None = None) -> DownResult:
    """Stop and remove every service of ``plan``'s project and stack, declared or orphaned.

    :param volumes: also delete their data (volumes, data directories) and forget
        the allocations recorded for them.
    """
    from .locking import locked
    from .session import Session

    if session is None:
        async with Session(project, plan, progress=progress) as own:
            return await down(project, plan, volumes=volumes, progress=progress, session=own)
    result = DownResult(data_deleted=volumes)
    result.untouched = [s.name for s in plan.services if not session.manages(s.provider)]
    async with locked(project, session.progress):
        planned = {svc.provider for svc in plan.services}
        for pname, provider in (await managed_providers(session)).items():
            await _remove_all(session, pname, provider, result, volumes=volumes, planned=pname in planned)
        for name in sorted(set(result.removed) | {s.name for s in plan.services}):
            session.state.set_setting(plan.stack, APPLIED_SETTING + name, None)  # a new start reads its config anew
        if volumes:
            names = {s.name for s in plan.services if session.manages(s.provider)} | set(result.removed)
            for name in sorted(names):
                session.state.forget_service(plan.stack, name)
            result.forgotten = sorted(names)
            _remove_files(session)
        session.state.log_event(plan.stack, "down", "volumes" if volumes else "")
    return result


def _remove_files(session: Session) -> None:
    """Delete the files presets generated for the stack's services (their files directories)."""
    import shutil

    from ..layout import files_root

    root = files_root(session.project.root, session.plan.stack)
    if root.is_dir():
        shutil.rmtree(root)


async def _remove_all(session: Session, pname: str, provider: Provider, result: DownResult, *, volumes: bool, planned: bool) -> None:
    """Stop and remove everything ``provider`` manages for the stack (a provider the plan does not use may fail: a warning)."""
    from ..errors import OmnitronError, ProvisionError

    try:
        managed = await provider.list_managed()
    except Exception as exc:
        if not planned:
            result.warnings.append(f"{pname} provider: could not list services: {exc}")
            return
        if isinstance(exc, OmnitronError):
            raise
        raise ProvisionError(f"{pname} provider: cannot list this stack's services: {type(exc).__name__}: {exc}") from None

    failed: dict[str, OmnitronError] = {}

    async def remove(name: str) -> None:  # one failing does not stop the others' removal
        session.progress(name, "starting", "stopping")
        try:
            await provider.stop(name)
            await provider.remove(name, volumes=volumes)
        except OmnitronError as exc:
            failed[name] = exc
            session.progress(name, "failed", str(exc))
            return
        result.removed[name] = pname
        session.progress(name, "ready", "removed" + (" with its data" if volumes else ""))

    async with task_group() as tg:
        for name in sorted(managed):
            tg.start_soon(remove, name)
    if failed:
        raise combined([failed[name] for name in sorted(failed)])
    if volumes:
        await provider.remove_all_data()


async def remove_orphans(session: Session, *, source: str = "up") -> dict[str, str]:
    """Stop and remove what a provider runs for the stack but the plan no longer declares (a renamed or deleted service).

    Its data (volumes, data directory) is kept: declaring the service again
    finds it. Each removal is recorded as a ``remove-orphan`` event. A provider
    that cannot list its services is skipped (``status`` reports it).

    :returns: service -> provider, for every orphan removed.
    """
    planned = {svc.name for svc in session.plan.services}
    removed: dict[str, str] = {}
    for pname, provider in (await managed_providers(session)).items():
        try:
            managed = await provider.list_managed()
        except Exception:
            continue
        for name in sorted(set(managed) - planned):
            session.progress(name, "starting", "removing an orphan (not in the plan; its data is kept)")
            session.state.record_event(session.plan.stack, name, "remove-orphan", f"not in the plan; removed by {source}, its data is kept", {"provider": pname})
            await provider.stop(name)
            await provider.remove(name, volumes=False)
            removed[name] = pname
            session.progress(name, "ready", "orphan removed")
    return removed
