"""Answering a few commands through the project's running daemon, before cyclopts or any plugin is imported.

Which commands: ``infra up`` with nothing to do, ``infra status --json``
(``ps``), and the gate of ``omnitron run APP [-- CMD...]`` (as
:mod:`omnitron.fastargs` parses them). The project is found as the
command line finds it, without reading its config. The daemon says which
files it planned from and their digests, and a digest of the environment it
runs with; this process re-digests those files and its own environment and
asks only when all match. On anything unexpected (no daemon, another
environment, a changed file, a reply it does not know, a service that is not
ready) :func:`answer` returns ``None`` and the normal command line runs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

from ..digests import digest_files, env_fingerprint
from ..fastargs import become, quote
from . import wire
from .paths import find_root, files_of, switched_off

TIMEOUT = 5.0


def answer(command: str, opts: dict[str, Any]) -> int | None:
    """The exit code of ``command`` (:func:`omnitron.fastargs.parse`) when the daemon answered it, or ``None`` to go on."""
    if switched_off():
        return None
    try:
        root = find_root(opts.get("project"))
        if root is None:
            return None
        sock = files_of(root).socket
        if not sock.exists():
            return None
        config = _trusted_config(sock, opts.get("stack"))
        if config is None:
            return None
        return {"up": _up, "status": _status, "run": _run}[command](sock, config, opts)
    except (wire.WireError, OSError, ValueError, KeyError, TypeError):
        return None


def _trusted_config(sock: Path, stack: str | None) -> dict[str, Any] | None:
    """What the daemon planned ``stack`` from, when this process would plan the same."""
    target = "/config" + (f"?stack={quote(stack)}" if stack else "")
    reply = wire.request(sock, "GET", target, timeout=TIMEOUT)
    if reply.status != 200:
        return None
    config = reply.json()
    if not config.get("kept") or config.get("fingerprint") != env_fingerprint():
        return None
    files = config.get("files") or {}
    if not files or digest_files(list(files)) != files:
        return None
    return config


def _status(sock: Path, config: dict[str, Any], opts: dict[str, Any]) -> int | None:
    reply = wire.request(sock, "GET", f"/state?stack={quote(config['stack'])}", timeout=TIMEOUT)
    if reply.status != 200:
        return None
    sys.stdout.write(json.dumps(reply.json(), indent=2, sort_keys=False, default=str) + "\n")
    return 0


def _up(sock: Path, config: dict[str, Any], opts: dict[str, Any]) -> int | None:
    started = time.monotonic()
    reply = wire.request(sock, "POST", "/up", {"stack": config["stack"], "ifNoop": True}, timeout=TIMEOUT)
    if reply.status != 200:
        return None
    data = reply.json()
    services = data.get("services") or {}
    if not data.get("ok") or not data.get("noop"):
        return None
    out = sys.stdout
    out.write(f"project {config['project']}, stack {config['stack']}: up to date (checked by the daemon, pid {config.get('pid')})\n")
    ready = sum(1 for s in services.values() if s == "ready")
    out.write(f"ready: {ready} service{'s' if ready != 1 else ''} in {time.monotonic() - started:.2f}s\n")
    return 0


def _run(sock: Path, config: dict[str, Any], opts: dict[str, Any]) -> int | None:
    app = opts["app"]
    reply = wire.request(sock, "POST", f"/apps/{quote(app)}/env", {"stack": config["stack"]}, timeout=TIMEOUT)
    if reply.status != 200:
        return None
    data = reply.json()
    env = data["env"]
    argv = list(opts.get("command") or [])
    cwd = None
    if not argv:
        argv = list(data.get("command") or [])
        if not argv:
            return None  # the normal command line explains it
        cwd = data.get("cwd")
    return become(argv, env, cwd)
