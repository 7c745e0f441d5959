"""``omnitron backup create | list | restore [ID]``: the stack's data, copied by each service's preset."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from .options import JsonOpt, ServiceArg, completes, ProjectOpt, StackOpt, YesOpt, console, print_json, report_warnings, run_async

ToOpt = Annotated[Path | None, Parameter(name="--to", help="Directory to write the backup in (default: .omnitron/backups of the project).")]
FromOpt = Annotated[Path | None, Parameter(name="--from", help="Directory holding the backups (default: .omnitron/backups of the project).")]


def _say(line: str) -> None:
    print(f"omnitron: {line}", file=sys.stderr, flush=True)


def _load(project, stack):
    from ..usecases import load_stack

    loaded = load_stack(project, stack)
    report_warnings(loaded.project)
    return loaded


def human_size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"  # pragma: no cover


def create_cmd(*services: ServiceArg, to: ToOpt = None, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Back up the running stack: each service whose preset can (Postgres pg_dump, Redis RDB, MySQL dump), where it runs.

    :param services: Only these services (default: every service that can be backed up).
    """
    from ..usecases.backup import create_backup

    loaded = _load(project, stack)
    result = run_async(create_backup, loaded, list(services) or None, to=to, say=None if json else _say)
    if json:
        print_json(result.as_dict())
        return 0
    print_created(result)
    return 0


def print_created(result) -> None:
    manifest = result.manifest
    parts = [f"{name} ({len(b.files)} file{'s' if len(b.files) != 1 else ''}, {human_size(b.size)})" for name, b in manifest.services.items()]
    console().print(f"backup [bold]{manifest.id}[/bold]: {', '.join(parts)}", soft_wrap=True)
    for name, why in manifest.skipped.items():
        console().print(f"  skipped {name}: {why}", soft_wrap=True)
    console().print(f"in {result.path}", soft_wrap=True)


def list_cmd(*, source: FromOpt = None, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """List the backups, oldest first: id, stack, when, services, size."""
    from ..usecases.backup import list_backups

    found = list_backups(_load(project, stack), source)
    if json:
        print_json({"backups": [b.as_dict() for b in found]})
        return 0
    if not found:
        console().print("no backups yet: `omnitron backup create` makes one")
        return 0
    from rich.table import Table

    table = Table(title="backups")
    for col in ("id", "stack", "created", "services", "size", "omnitron"):
        table.add_column(col)
    for b in found:
        m = b.manifest
        table.add_row(m.id, m.stack, m.created_at, ", ".join(m.services), human_size(m.size), m.omnitron_version)
    console().print(table)
    return 0


OnlyOpt = Annotated[tuple[str, ...], Parameter(name="--service", help="Restore only this service (repeatable).", completer=completes("services"))]
BackupArg = Annotated[str | None, Parameter(completer=completes("backups"))]


def restore_cmd(backup: BackupArg = None, /, *, source: FromOpt = None, service: OnlyOpt = (), yes: YesOpt = False, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Restore a backup (the newest when no ID is given), replacing the services' current data (needs --yes).

    Every file's checksum is verified first: a backup that differs from its manifest is refused.

    :param backup: A backup id (see `omnitron backup list`) or a backup directory.
    """
    from ..usecases.backup import plan_restore, restore_backup

    loaded = _load(project, stack)
    plan = plan_restore(loaded, backup, source=source, services=list(service) or None)
    if not yes:
        out = console()
        out.print(f"[bold red]backup restore[/bold red] {plan.manifest.id} (of stack {plan.manifest.stack}, {plan.manifest.created_at}) into stack {loaded.name}:")
        for line in plan.lines():
            out.print(f"  - {line}", soft_wrap=True)
        out.print("Checksums verified. Run again with --yes to restore. Nothing was changed.")
        return 1
    run_async(restore_backup, loaded, plan, say=None if json else _say)
    if json:
        print_json({"id": plan.manifest.id, "path": str(plan.path), "restored": plan.services, "skipped": plan.skipped})
        return 0
    console().print(f"[green]restored[/green] {', '.join(plan.services)} from backup {plan.manifest.id}", soft_wrap=True)
    for name, why in plan.skipped.items():
        console().print(f"  skipped {name}: {why}", soft_wrap=True)
    return 0
