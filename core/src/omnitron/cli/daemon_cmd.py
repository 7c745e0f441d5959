"""``omnitron daemon start|stop|status|run``: the project's daemon (see :mod:`omnitron.daemon`)."""

from __future__ import annotations

from pathlib import Path

from .options import JsonOpt, ProjectOpt, console, load_project, print_json


def _root(project: ProjectOpt) -> Path:
    return load_project(project).root


def start_cmd(*, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Start the project's daemon in the background (nothing happens when one runs)."""
    from ..daemon import control

    st, note = control.start(_root(project))
    if json:
        print_json({**st.as_json(), "note": note})
    else:
        console().print(f"daemon: {note}; log {control.files_of(st.root).log}")
    return 0


def stop_cmd(*, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Stop the project's daemon (SIGTERM; it stops within a few seconds)."""
    from ..daemon import control

    was, note = control.stop(_root(project))
    if json:
        print_json({"wasRunning": was, "note": note})
    else:
        console().print(f"daemon: {note}")
    return 0


def status_cmd(*, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Whether the project's daemon runs: its pid, socket, log, the stacks it keeps and its last passes."""
    from ..daemon import control

    st = control.status(_root(project))
    if json:
        print_json(st.as_json())
        return 0 if st.running else 3
    out = console()
    if not st.running:
        extra = f" (pid {st.pid} stopped without cleaning up: it was killed; `omnitron daemon start` or `infra up` starts a new one)" if st.stale else ""
        out.print(f"daemon: not running{extra}")
        return 3
    health = st.health or {}
    out.print(f"daemon: running (pid {st.pid}) since {health.get('startedAt', '?')}; socket {control.files_of(st.root).socket}")
    for name, info in (health.get("stacks") or {}).items():
        last = info.get("lastPass") or {}
        line = f"  stack {name}: every {info.get('interval', 0):g}s"
        if info.get("error"):
            line += f"; config error: {info['error']}"
        elif last:
            line += f"; last pass {last.get('seconds', 0):.3f}s, {len(last.get('actions') or [])} action(s)" + (f" (skipped: {last['skipped']})" if last.get("skipped") else "")
        out.print(line)
    return 0


def run_cmd(*, project: ProjectOpt = None) -> int:
    """Run the daemon in the foreground (for systemd or a supervisor); SIGTERM stops it."""
    from ..daemon.server import serve

    return serve(_root(project), foreground=True)
