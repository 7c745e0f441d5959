"""``omnitron infra up``: load the stack, provision it with a live view or plain lines, remember the plan, keep the daemon.

No cyclopts here: :func:`omnitron.cli.run` calls :func:`up` straight for an
``infra up`` command line :func:`omnitron.fastargs.parse_up` reads, and
``infra_run.up_cmd`` (the cyclopts command) calls it for every other spelling.
"""

from __future__ import annotations

import sys
from typing import Any

from .output import console, print_json, report_warnings, run_async


def _load(project: Any, stack: str | None, provider: str | None = None, *, record: bool = False) -> Any:
    from ..usecases import load_stack

    loaded = load_stack(project, stack, provider, record=record and provider is None)
    report_warnings(loaded.project)
    return loaded


# -- up / reset ------------------------------------------------------------------


def _provision(loaded: Any, work: Any, *, json: bool) -> int:
    """Run ``work(progress)`` (an up) with a live view (TTY), plain lines (pipe) or nothing (``--json``), then print the result.

    Ctrl-C stops it cleanly and says where each service was (:mod:`.interrupt`); a second one exits at once.
    """
    from ..engine import progress as prog
    from .interrupt import Interrupted, report

    plan = loaded.plan
    timeline = prog.Timeline()
    for svc in plan.services:
        timeline.add(svc.name)
    try:
        return _provision_with(loaded, work, timeline, json=json)
    except Interrupted:
        return report(console(stderr=json), timeline, lambda: _left_running(loaded))


def _left_running(loaded: Any) -> dict[str, str]:
    """Service -> ``provider, status`` of what runs for the stack now (no health probes; a few seconds at most)."""
    import anyio

    from ..usecases import stack_status
    from .interrupt import CHECK_SECONDS

    async def look() -> Any:
        with anyio.fail_after(CHECK_SECONDS):
            return await stack_status(loaded, probe=False)

    state = anyio.run(look)
    return {name: f"{st.provider or '?'}, {st.status}" for name, st in state.services.items() if st.status in ("running", "restarting", "paused", "created")}


def _provision_with(loaded: Any, work: Any, timeline: Any, *, json: bool) -> int:
    from ..engine import progress as prog
    from .interrupt import run_interruptible

    plan = loaded.plan
    if json:
        result = run_interruptible(work, timeline)
        data = result.as_dict()
        data["provider"] = loaded.provider_note
        for name, tl in timeline.services.items():
            if name in data["services"]:
                data["services"][name]["phases"] = tl.as_dict()["phases"]
        print_json(data)
        return 0 if result.ok else 1
    out = console()
    out.print(f"project [bold]{plan.project}[/bold], stack [bold]{plan.stack}[/bold]: {loaded.provider_note}")
    if sys.stdout.isatty():
        view = prog.LiveView(out, providers={s.name: s.provider for s in plan.services})
        view.attach(timeline)
        with view:
            result = run_interruptible(work, timeline)
    else:
        timeline.listeners.append(prog.PlainView(sys.stdout))
        result = run_interruptible(work, timeline)
    return _print_up(out, result)


def _print_up(out: Any, result: Any) -> int:
    from .plain import escape

    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    if not result.ok:
        for outcome in result.failures:
            out.print(f"[bold red]failed:[/bold red] {escape(outcome.error or '')}", soft_wrap=True)
        return 1
    ready = sum(1 for o in result.services.values() if o.status == "ready")
    out.print(f"[green]ready:[/green] {ready} service{'s' if ready != 1 else ''} in {result.seconds:.2f}s")
    return 0


def up(*, project: Any = None, stack: str | None = None, provider: str | None = None, as_json: bool = False, no_daemon: bool = False) -> int:
    """Provision the stack's infrastructure: start what is missing, wait for health, prepare, allocate; then start the daemon."""
    from ..usecases import bring_up

    loaded = _load(project, stack, provider, record=True)
    results: list[Any] = []

    async def work(progress: Any) -> Any:
        results.append(await bring_up(loaded, progress=progress))
        return results[-1]

    code = _provision(loaded, work, json=as_json)
    if code == 0 and results and loaded.inputs is not None:
        _remember(loaded, stack, up_warnings=results[-1].warnings, healthy=results[-1].healthy)
    _keep_daemon(loaded, no_daemon=no_daemon, json=as_json)
    return code


def _remember(loaded: Any, stack: str | None, **what: Any) -> None:
    """Write the plan cache of the stack a command just handled (see :mod:`omnitron.plancache`)."""
    from ..usecases.plan_cache import remember

    run_async(remember, loaded, default=stack is None, **what)


def _keep_daemon(loaded: Any, *, no_daemon: bool, json: bool) -> None:
    """Start the project's daemon after an up, unless told not to; a daemon that cannot start is a warning."""
    from ..daemon import control

    eco = loaded.project.loaded.ecosystem
    if not control.allowed(no_daemon, eco.daemon):
        return
    try:
        note = control.ensure(loaded.project.root)
    except (OSError, RuntimeError) as exc:
        print(f"omnitron: warning: the daemon did not start: {exc}", file=sys.stderr)
        return
    cfg = eco.stacks.get(loaded.name)
    every = ((cfg.reconcile_interval if cfg else None) or eco.reconcile_interval) / 1000
    line = f"daemon: {note}; it keeps stack {loaded.name} as declared (every {every:g}s; `omnitron daemon stop` stops it)"
    if json:
        print(f"omnitron: {line}", file=sys.stderr)
    else:
        console().print(line, soft_wrap=True)
