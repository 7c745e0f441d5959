"""The infrastructure API (the spec's ``OmnitronInfra``): HTTP/JSON over the daemon's socket, documented in ``openapi.yaml``.

Every handler calls the same use cases as the command line. Errors are JSON
``{"error": "..."}`` with a 4xx status for a request the daemon cannot serve
(an unknown stack, service or app; a stack it does not keep) and 409 when the
fast paths must fall back to the full command (``ifNoop`` with work to do, an
app whose services are not ready). Streams (``/events?follow=true``,
``/logs/{service}``) are chunked NDJSON or text lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .. import __version__
from ..errors import ConfigError, OmnitronError
from .problem import Problem

if TYPE_CHECKING:
    from .keeper import StackKeeper
    from .keeping import Daemon

DAEMON: web.AppKey[Daemon] = web.AppKey("daemon")
MAX_INT = 2**53 - 1
"""Largest integer a query parameter takes (JSON's safe integers)."""
EVENT_POLL = 0.25
"""Seconds between looks at the state store while following events (CLI commands record events too)."""


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), status=status, content_type="application/json")


@web.middleware
async def problems(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as exc:
        return _json({"error": str(exc)}, exc.status)
    except ConfigError as exc:
        return _json({"error": str(exc)}, 503)
    except OmnitronError as exc:
        return _json({"error": str(exc)}, 500 if exc.exit_code != 2 else 503)
    except web.HTTPException:
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as exc:  # a bug answers 500 with a line, never kills the daemon
        import logging

        logging.getLogger("omnitron.daemon").exception("API %s %s", request.method, request.path)
        return _json({"error": f"{type(exc).__name__}: {exc}"}, 500)


def make_app(daemon: Daemon) -> web.Application:
    app = web.Application(middlewares=[problems])
    app[DAEMON] = daemon
    app.add_routes([
        web.get("/health", health), web.get("/config", config), web.get("/state", state),
        web.get("/services/{name}", service), web.post("/reconcile", reconcile), web.post("/up", up),
        web.post("/down", down), web.get("/events", events), web.get("/logs/{service}", logs),
        web.get("/endpoints", endpoints), web.post("/apps/{app}/env", app_env),
    ])
    return app


def _daemon(request: web.Request) -> Daemon:
    return request.app[DAEMON]


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise Problem(400, f"query parameter {name}: expected true or false, got {value!r}")
    return value in ("true", "1")


def _int(request: web.Request, name: str, default: int | None, *, minimum: int = 0) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Problem(400, f"query parameter {name}: expected an integer, got {raw!r}") from None
    if not minimum <= value <= MAX_INT:
        raise Problem(400, f"query parameter {name}: must be between {minimum} and {MAX_INT}")
    return value


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise Problem(400, f"{key}: expected true or false")
    return value


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise Problem(400, "the request body must be a JSON object")
    return data


def _stack_name(daemon: Daemon, value: Any) -> str:
    import re

    if value is None:
        return daemon.default_stack()
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", value):
        raise Problem(400, f"stack: expected a stack name, got {value!r}")
    return value


async def _kept(daemon: Daemon, value: Any) -> StackKeeper:
    """The keeper of a stack the daemon keeps, with a usable plan (404 / 503 otherwise)."""
    name = _stack_name(daemon, value)
    if name not in daemon.kept():
        raise Problem(404, f"stack {name} is not kept by the daemon (run `omnitron infra up --stack {name}`)")
    keeper = daemon.keeper(name)
    if keeper.changed():
        async with daemon.work:
            with daemon.state() as st:
                keeper.refresh(st)
    if keeper.stack is None:
        raise Problem(503, f"stack {name}: the config does not load: {keeper.error}")
    return keeper


async def health(request: web.Request) -> web.Response:
    daemon = _daemon(request)
    import datetime as dt

    return _json({
        "pid": os.getpid(), "version": __version__, "root": str(daemon.root),
        "startedAt": dt.datetime.fromtimestamp(daemon.started, dt.timezone.utc).isoformat(timespec="seconds"),
        "stacks": {name: {"interval": k.interval, "error": k.error, "lastPass": daemon.last[name].as_json() if name in daemon.last else None} for name, k in daemon.keepers.items()},
    })


async def config(request: web.Request) -> web.Response:
    """What the daemon planned a stack from: files with digests, the environment's digest (the fast paths check these)."""
    daemon = _daemon(request)
    name = _stack_name(daemon, request.query.get("stack"))
    kept = name in daemon.kept()
    keeper = daemon.keepers.get(name)
    usable = keeper is not None and keeper.stack is not None and not keeper.changed()
    return _json({
        "project": keeper.stack.plan.project if usable and keeper and keeper.stack else None, "stack": name, "kept": kept and usable,
        "files": keeper.files if usable and keeper else {}, "fingerprint": daemon.fingerprint, "pid": os.getpid(),
        "error": keeper.error if keeper else None,
    })


async def state(request: web.Request) -> web.Response:
    from ..usecases import stack_status

    keeper = await _kept(_daemon(request), request.query.get("stack"))
    assert keeper.stack is not None
    return _json((await stack_status(keeper.stack)).as_json())


async def service(request: web.Request) -> web.Response:
    from ..usecases import stack_status

    keeper = await _kept(_daemon(request), request.query.get("stack"))
    assert keeper.stack is not None
    name = request.match_info["name"]
    st = (await stack_status(keeper.stack)).as_json()["services"].get(name)
    if st is None:
        raise Problem(404, f"no service named {name!r} in stack {keeper.name}")
    return _json(st)


async def reconcile(request: web.Request) -> web.Response:
    daemon = _daemon(request)
    body = await _body(request)
    names = [_stack_name(daemon, body["stack"])] if body.get("stack") is not None else daemon.kept()
    if not _bool(body, "wait", True):
        daemon.kick.set()
        return _json({"passes": []}, 202)
    passes = []
    for name in names:
        passes.append((await daemon.run_pass(await _kept(daemon, name), source="request")).as_json())
    return _json({"passes": passes})


async def up(request: web.Request) -> web.Response:
    """``ifNoop``: answer only when nothing is to do (the fast ``infra up``); else bring the stack up and keep it."""
    from ..usecases import bring_up

    daemon = _daemon(request)
    body = await _body(request)
    if _bool(body, "ifNoop", False):
        return await _noop(daemon, body.get("stack"))
    name = _stack_name(daemon, body.get("stack"))
    if name not in daemon.declared_stacks():
        raise Problem(404, f"no stack named {name!r} in the project")
    keeper = daemon.keeper(name)
    async with daemon.work:
        with daemon.state() as st:
            if not keeper.refresh(st):
                raise Problem(503, f"stack {name}: the config does not load: {keeper.error}")
        assert keeper.stack is not None
        result = await bring_up(keeper.stack)
    daemon.kick.set()
    return _json(result.as_dict(), 200 if result.ok else 500)


async def _noop(daemon: Daemon, stack: Any) -> web.Response:
    from ..engine.session import Session
    from .reconcile import observe

    keeper = await _kept(daemon, stack)
    assert keeper.stack is not None
    started = time.monotonic()
    async with Session(keeper.stack.project, keeper.stack.plan) as session:
        obs = await observe(session, keeper)
        waiting = session.state.waiting(keeper.name)
        # a server omnitron does not run is judged only by the full up's gate (the passes do not watch it)
        unwatched = [s.name for s in keeper.stack.plan.services if not session.manages(s.provider)]
    if not obs.noop or waiting or unwatched:
        reasons = [f"{r.service}: {r.action} ({r.reason})" for r in obs.repairs] + [f"{n}: orphan" for n in obs.orphans] + [f"{n}: waiting for {d}" for n, d in waiting.items()]
        reasons += [f"{n}: not run by omnitron; up checks it" for n in unwatched]
        return _json({"ok": False, "noop": False, "reasons": reasons}, 409)
    services = {s.name: "ready" for s in keeper.stack.plan.services}
    return _json({"ok": True, "noop": True, "services": services, "seconds": round(time.monotonic() - started, 4)})


async def down(request: web.Request) -> web.Response:
    from ..usecases import bring_down

    daemon = _daemon(request)
    body = await _body(request)
    volumes = _bool(body, "volumes", False)
    keeper = await _kept(daemon, body.get("stack"))
    assert keeper.stack is not None
    async with daemon.work:
        result = await bring_down(keeper.stack, volumes=volumes)
    data = result.as_dict()
    data["daemonStops"] = not daemon.kept()
    if data["daemonStops"]:
        asyncio.get_running_loop().call_later(0.2, daemon.stopping.set)
    return _json(data)


async def events(request: web.Request) -> web.StreamResponse:
    """NDJSON, one event a line; ``follow`` keeps the stream open for new ones."""
    daemon = _daemon(request)
    stack = _stack_name(daemon, request.query["stack"]) if "stack" in request.query else None
    after = _int(request, "after", 0) or 0
    limit = _int(request, "limit", None, minimum=1)
    follow = _flag(request, "follow")
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    with daemon.state() as st:
        batch = st.events(stack, after=after, limit=limit)
        while True:
            for event in batch:
                await response.write((json.dumps(event.as_json()) + "\n").encode())
                after = event.id
            if not follow or _gone(request):
                break
            await asyncio.sleep(EVENT_POLL)
            batch = st.events(stack, after=after)
    await response.write_eof()
    return response


def _gone(request: web.Request) -> bool:
    """Whether the client of a followed stream went away (nothing else tells a handler that writes nothing)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def logs(request: web.Request) -> web.StreamResponse:
    from ..usecases import stream_logs

    keeper = await _kept(_daemon(request), request.query.get("stack"))
    stack = keeper.stack
    assert stack is not None
    name = request.match_info["service"]
    if not any(s.name == name for s in stack.plan.services):
        raise Problem(404, f"no service named {name!r} in stack {keeper.name}")
    follow = _flag(request, "follow")
    tail = _int(request, "tail", None)
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            await stream_logs(stack, name, follow=follow, tail=tail, write=lines.put_nowait)
        except OmnitronError as exc:
            lines.put_nowait(f"omnitron: {exc}")
        finally:
            lines.put_nowait(None)

    await response.prepare(request)
    task = asyncio.create_task(produce())
    try:
        while True:
            try:
                line = await asyncio.wait_for(lines.get(), timeout=1.0)
            except asyncio.TimeoutError:
                if _gone(request):  # a quiet service's followed log: its client went away
                    break
                continue
            if line is None:
                break
            await response.write((line + "\n").encode())
    finally:
        task.cancel()
    await response.write_eof()
    return response


async def endpoints(request: web.Request) -> web.Response:
    daemon = _daemon(request)
    name = _stack_name(daemon, request.query.get("stack"))
    with daemon.state() as st:
        return _json({"stack": name, "endpoints": [e.as_json() for e in st.endpoints(name)]})


async def app_env(request: web.Request) -> web.Response:
    """The gate and env of ``omnitron run APP`` when the app's services are ready now (secrets included: the socket is 0600)."""
    from .gate import fast_env

    daemon = _daemon(request)
    body = await _body(request)
    keeper = await _kept(daemon, body.get("stack"))
    return _json(await fast_env(keeper, request.match_info["app"]))
