"""Answering ``infra up`` (nothing to do), ``infra status --json`` and ``omnitron run APP`` from the plan cache.

Standard library only (``cryptography`` too when ``run`` reads a secret).
:func:`answer` returns ``None`` whenever anything does not hold (see
:mod:`omnitron.plancache`), before it has printed anything; the normal
command line then runs. What it prints is what the full command prints:

- ``up``: the header line with the provider, one ``SERVICE: ready (...)`` line per
  service naming what was checked, the warnings the last full ``up`` gave, and
  ``ready: N services in S``; it records the ``up`` in the state store as the
  full command does. Only where the full command would not start the daemon
  (``OMNITRON_DAEMON=off``, ``--no-daemon``, ``daemon: false``);
- ``status --json``: the same document, the allocations and the last
  reconcile read from the state store now;
- ``run``: the app's env (secrets read from the store now), the endpoints
  recorded as the full command records them, the watcher of where the command
  listens, then ``exec``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

from ..daemon.paths import STATE_DIRNAME, find_root
from ..fastargs import become
from ..quickcheck import run_all
from . import files, switched_off
from .inputs import key_holds


class _Context:
    """One fast answer's project, cache document and options (a plain class: ``dataclasses`` costs import time here)."""

    def __init__(self, root: Path, doc: dict[str, Any], opts: dict[str, Any]) -> None:
        self.root = root
        self.state_dir = root / STATE_DIRNAME
        self.doc = doc
        self.opts = opts
        self.stack: str = doc["stack"]

    def state(self) -> Any:
        from ..state import StateStore

        return StateStore(self.state_dir)

    def services(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        return [s for s in self.doc["services"] if names is None or s["name"] in names]

    def warn_config(self) -> None:
        for warning in self.doc.get("warnings") or []:
            print(f"omnitron: warning: {warning}", file=sys.stderr, flush=True)


def answer(command: str, opts: dict[str, Any]) -> int | None:
    """The exit code of ``command`` (:func:`omnitron.fastargs.parse`) when the plan cache answered it, or ``None`` to go on."""
    if switched_off():
        return None
    try:
        ctx = _context(opts)
        if ctx is None:
            return None
        return _COMMANDS[command](ctx)
    except Exception:  # noqa: BLE001 - a damaged cache or store, a secret that does not decrypt: the full path says it
        return None


def _context(opts: dict[str, Any]) -> _Context | None:
    root = find_root(opts.get("project"))
    if root is None:
        return None
    named = opts.get("stack")
    doc = files.read(root / STATE_DIRNAME, named)
    if doc is None or doc.get("root") != str(root):
        return None
    if named is None and doc.get("defaultStack") != doc["stack"]:
        return None
    if not key_holds(doc["key"], root / STATE_DIRNAME, doc["stack"]):
        return None
    return _Context(root, doc, opts)


def _still_ready(ctx: _Context, state: Any, services: list[dict[str, Any]]) -> bool:
    """Each service ``ready`` in the state store at its planned spec hash, nothing re-gated, every quick check passing."""
    if state.waiting(ctx.stack):
        return False
    for svc in services:
        if svc["managed"] and not state.is_ready(ctx.stack, svc["name"], svc["specHash"]):
            return False
    return all(run_all(svc["checks"]) is None for svc in services)


def _up(ctx: _Context) -> int | None:
    from ..daemon.paths import switched_off as daemon_off

    up = ctx.doc.get("up")
    if up is None or not (ctx.opts.get("noDaemon") or not ctx.doc.get("daemon") or daemon_off()):
        return None
    started = time.monotonic()
    services = ctx.services()
    with ctx.state() as state:
        if not state.is_kept(ctx.stack) or not _still_ready(ctx, state, services):
            return None
        state.log_event(ctx.stack, "up", json.dumps({s["name"]: "ready" for s in services}, sort_keys=True))
        state.mark_reconciled(ctx.stack)
    ctx.warn_config()
    out = sys.stdout
    out.write(f"project {ctx.doc['project']}, stack {ctx.stack}: {ctx.doc['providerNote']}\n")
    for svc in services:
        checked = ", ".join(_describe(c) for c in svc["checks"])
        out.write(f"{svc['name']}: ready (up to date: {checked}) [{(time.monotonic() - started) * 1000:.0f}ms]\n")
    for warning in up.get("warnings") or []:
        out.write(f"warning: {warning}\n")
    out.write(f"ready: {len(services)} service{'s' if len(services) != 1 else ''} in {time.monotonic() - started:.2f}s\n")
    return 0


def _describe(check: dict[str, Any]) -> str:
    from ..quickcheck import QuickCheck

    return QuickCheck.from_json(check).describe()


def _status(ctx: _Context) -> int | None:
    cached = ctx.doc.get("status")
    if cached is None:
        return None
    with ctx.state() as state:
        if not _still_ready(ctx, state, ctx.services()):
            return None
        last = state.last_reconciled(ctx.stack)
        rows = state.allocations(ctx.stack)
    stamp = None
    if last:
        import datetime as dt

        stamp = dt.datetime.fromtimestamp(last, dt.timezone.utc).isoformat(timespec="seconds")
    allocations = [{"service": r["service"], "kind": r["kind"], "name": r["name"], "app": r["app"], "values": r["values"]} for r in rows]
    ctx.warn_config()
    document = {"services": cached["services"], "ready": True, "lastReconciled": stamp, "allocations": allocations}
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return 0


def _run(ctx: _Context) -> int | None:
    from .inputs import app_inputs

    app = ctx.opts["app"]
    entry = (ctx.doc.get("apps") or {}).get(app)
    if entry is None:
        return None
    argv = list(ctx.opts.get("command") or entry.get("command") or [])
    if not argv:
        return None  # the normal command line explains it
    expected = {name: (host, int(port)) for name, (host, port) in entry["expected"].items()}
    with ctx.state() as state:
        if not _still_ready(ctx, state, ctx.services(entry["services"])) or app_inputs(state, ctx.stack, app) != entry["inputs"]:
            return None
        recorded = state.app_endpoints(ctx.stack).get(app, {})
        if {name: (e.host, e.port) for name, e in recorded.items()} != expected:
            return None  # the app moved: the full command records it and runs the services' chores
        env = _env(ctx, entry)
        state.record_app_endpoints(ctx.stack, app, expected, source="expected")
        state.touch_endpoints(ctx.stack, app, entry["services"], entry["handed"])
    ctx.warn_config()
    cwd = entry.get("cwd") if not ctx.opts.get("command") else None
    return _exec(ctx, app, argv, env, cwd)


def _env(ctx: _Context, entry: dict[str, Any]) -> dict[str, str]:
    """The app's env, each secret read from the project's store now (:class:`LookupError` when one is not set)."""
    from ..secret_tokens import join
    from .store import store_values

    wanted = {part["secret"] for _, parts in entry["env"] for part in parts if isinstance(part, dict)}
    values = store_values(ctx.doc.get("secretBackend"), ctx.doc["project"], ctx.root, wanted) if wanted else {}
    return {var: join(parts, values) for var, parts in entry["env"]}


def _exec(ctx: _Context, app: str, argv: list[str], env: dict[str, str], cwd: str | None) -> int:
    from ..listening_watcher import watch_in_background

    root, stack = ctx.root, ctx.stack

    def record(pid: int, seen: set[tuple[str, int]]) -> None:  # in the watcher: the full use case, off the fast path
        from ..usecases import load_stack
        from ..usecases.listening import record_observed

        record_observed(load_stack(root, stack), app, pid, seen)

    sys.stdout.flush()
    sys.stderr.flush()
    watch_in_background(record)
    return become(argv, env, cwd)


_COMMANDS = {"up": _up, "status": _status, "run": _run}
