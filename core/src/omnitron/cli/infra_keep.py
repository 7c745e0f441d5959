"""``omnitron infra events|endpoints|prune|reconcile``: what the daemon does and keeps, shown and asked for."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

from cyclopts import Parameter

from .options import JsonOpt, ProjectOpt, StackOpt, console, load_project, print_json, run_async

FollowOpt = Annotated[bool, Parameter(name=["--follow", "-f"], negative="", help="Keep printing new events.")]
LastOpt = Annotated[int | None, Parameter(name=["--last", "-n"], help="Only the last N events.")]
ServiceOpt = Annotated[str | None, Parameter(name="--service", help="Only the events of this service.")]
FOLLOW_POLL = 0.25


def _stack_name(project: Any, stack: str | None) -> str | None:
    """The stack named, else the default one; ``None`` (every stack) when the config does not load."""
    from ..errors import ConfigError

    if stack:
        return stack
    try:
        return project.default_stack()
    except ConfigError:
        return None


def _line(event: Any) -> str:
    data = event.as_json()
    return f"{data['time']}  {data['stack']:<8} {(data['service'] or '-'):<14} {data['action']:<15} {data['reason']}"


def events_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, follow: FollowOpt = False, last: LastOpt = None, service: ServiceOpt = None, json: JsonOpt = False) -> int:
    """What the reconciler, the janitor and ``infra up`` did, and why (works with or without a daemon)."""
    import json as _json

    from ..usecases import events_of

    proj = load_project(project)
    name = _stack_name(proj, stack)
    batch = events_of(proj, name, limit=last if last is not None else (None if json or not follow else 20), service=service)
    if json and not follow:
        print_json([e.as_json() for e in batch])
        return 0
    after = 0
    try:
        while True:
            for event in batch:
                sys.stdout.write((_json.dumps(event.as_json()) if json else _line(event)) + "\n")
                after = event.id
            sys.stdout.flush()
            if not follow:
                return 0
            time.sleep(FOLLOW_POLL)
            batch = events_of(proj, name, after=after, service=service)
    except KeyboardInterrupt:
        return 0


def endpoints_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Endpoints handed to apps by ``omnitron run``: which services, which env names, when; live or phantom."""
    from ..usecases import endpoints_of, load_stack

    loaded = load_stack(project, stack)
    found = endpoints_of(loaded)
    if json:
        print_json({"stack": loaded.name, "endpoints": [e.as_json() for e in found]})
        return 0
    from rich.table import Table

    table = Table(title=f"endpoints of project {loaded.plan.project}, stack {loaded.name}")
    for col in ("app", "service", "state", "env", "first seen", "last seen", "phantom since"):
        table.add_column(col, overflow="fold")
    for e in found:
        data = e.as_json()
        table.add_row(e.app, e.service, e.state, ", ".join(e.env) or "-", data["firstSeen"], data["lastSeen"], data["phantomSince"] or "-")
    console().print(table)
    return 0


PhantomsOpt = Annotated[bool, Parameter(name="--phantoms", negative="", help="Drop every phantom endpoint now (without waiting for the retention window).")]
OrphansOpt = Annotated[bool, Parameter(name="--orphans", negative="", help="Stop and remove services not in the plan (their data is kept).")]


def prune_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, phantoms: PhantomsOpt = False, orphans: OrphansOpt = False, json: JsonOpt = False) -> int:
    """Show what can be pruned; remove only what is asked (--phantoms, --orphans). Nothing by default."""
    from ..usecases import load_stack, prune

    loaded = load_stack(project, stack)
    result = run_async(prune, loaded, phantoms=phantoms, orphans=orphans)
    if json:
        print_json(result.as_json())
        return 0
    out = console()
    out.print(f"phantom endpoints: {', '.join(p['app'] + '/' + p['service'] for p in result.phantoms) or 'none'}" + (" (dropped)" if phantoms and result.phantoms else ""))
    out.print(f"orphaned services: {', '.join(f'{n} ({p})' for n, p in result.orphans.items()) or 'none'}" + (" (removed, data kept)" if orphans and result.orphans else ""))
    if not result.removed and (result.phantoms or result.orphans):
        out.print("nothing removed: pass --phantoms and/or --orphans")
    return 0


def reconcile_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, json: JsonOpt = False) -> int:
    """Reconcile now: the daemon's pass (or, without a daemon, one pass in this process)."""
    from ..daemon import control, wire
    from ..daemon.paths import files_of

    proj = load_project(project)
    name = _stack_name(proj, stack) or proj.default_stack()
    result: dict[str, Any] | None = None
    if control.status(proj.root).running:
        try:
            reply = wire.request(files_of(proj.root).socket, "POST", "/reconcile", {"stack": name}, timeout=3600)
            if reply.status == 200:
                result = reply.json()["passes"][0]
        except (wire.WireError, KeyError, IndexError, ValueError):
            result = None
    if result is None:
        result = run_async(_pass_here, proj, name)
    if json:
        print_json(result)
        return 0 if not (result.get("skipped") or "").startswith("config error") else 2
    out = console()
    if result.get("skipped"):
        out.print(f"stack {name}: pass skipped: {result['skipped']}")
        return 2 if result["skipped"].startswith("config error") else 1
    for action in result.get("actions") or []:
        out.print(f"{action['service'] or '-'}: {action['action']}: {action['reason']}", soft_wrap=True)
    out.print(f"stack {name}: reconciled in {result.get('seconds', 0):.3f}s" + ("; nothing to do" if not result.get("actions") else ""))
    return 0


async def _pass_here(project: Any, name: str) -> dict[str, Any]:
    from ..engine.locking import locked
    from ..daemon.keeper import StackKeeper
    from ..daemon.reconcile import PassResult, run_pass
    from ..state import StateStore

    keeper = StackKeeper(project.root, name, project.plugins)
    with StateStore(project.state_dir) as state:
        if not keeper.refresh(state):
            return PassResult(name, skipped=f"config error: {keeper.error}").as_json()
    keeper.reloaded = False
    async with locked(project):
        return (await run_pass(keeper, source="infra reconcile")).as_json()
