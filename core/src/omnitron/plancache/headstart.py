"""Head starts: a cold ``infra up`` starts its services from the last cold ``up``'s recipes while it is still loading.

A cold ``infra up`` spends its first fifth of a second importing, evaluating
the config and planning before anything is created. When a cold ``up`` of the
whole stack succeeded, the providers offered a recipe for each service they
made run (:meth:`~omnitron.providers.Provider.head_start`, kept by
:mod:`omnitron.usecases.head_start`) in ``.omnitron/plan-cache/head-start.json``
(mode 0600), under the key of everything that plan was made from (:mod:`.inputs`),
the env vars the providers read, and the ``--provider`` given. The file holds
no secret value: a recipe names secrets by their store keys (:mod:`omnitron.secret_tokens`).
It is kept across ``down`` (a cold ``up`` is what it is for); the newest
:data:`KEEP` keys are kept.

:func:`begin`, called as soon as the command line reads as ``infra up``
(standard library only, before pydantic or any plugin is imported), picks the
entry whose key holds now, which includes what planning reads from the state
store, so it is one made from a stack as down as this one. It takes the project lock
(another command holding it: no head start), reads the secrets, and runs each
service's recipe in a thread of its own. A recipe starts nothing that is not
exactly as recorded (an image, a name, a port, a volume not as it was): that
service is left to the full path. :func:`take_over`, called by the full path
before it provisions, waits for them and hands over what they started.

``OMNITRON_HEAD_START=off`` (or ``0``, ``false``, ``no``) switches head starts off: none is
run or kept; ``OMNITRON_PLAN_CACHE=off`` switches them off with the rest of the cache.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

from . import files, switched_off

FILE = "head-start.json"
KEEP = 4
"""Keys kept: the newest first (switching between a few settings keeps each one's recipes)."""
SWITCH_ENV = "OMNITRON_HEAD_START"
WAIT_S = 60.0
"""How long the full path waits for the head start at most (a start answers in well under a second)."""
FIRST_ALONE_S = 2.0
"""How long the other services wait at most for the slowest one's start (an engine starts one container at a time
about twice as fast as two at once)."""


def off() -> bool:
    """Whether head starts are switched off (``OMNITRON_HEAD_START``, or the plan cache's switch)."""
    return switched_off() or os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "false", "no")


def path(state_dir: Path) -> Path:
    return files.cache_dir(state_dir) / FILE


def entries(state_dir: Path) -> list[dict[str, Any]]:
    """The kept entries, newest first (none when the file is missing, does not parse, or is of another format)."""
    doc = files._load(path(state_dir))
    if doc is None or doc.get("format") != files.FORMAT + "-head-start" or doc.get("version") != files.VERSION:
        return []
    found = doc.get("entries")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def add(state_dir: Path, entry: dict[str, Any]) -> None:
    """Keep ``entry`` first, in place of one with the same stack and key; at most :data:`KEEP` are kept."""
    from ..secrets._files import atomic_write
    from ..state.directory import make_state_dir

    same = (entry["stack"], entry.get("providerOption"), json.dumps(entry["key"], sort_keys=True))
    kept = [e for e in entries(state_dir) if (e.get("stack"), e.get("providerOption"), json.dumps(e.get("key"), sort_keys=True)) != same]
    make_state_dir(state_dir)
    files.cache_dir(state_dir).mkdir(mode=0o700, exist_ok=True)
    doc = {"format": files.FORMAT + "-head-start", "version": files.VERSION, "entries": [entry, *kept][:KEEP]}
    atomic_write(path(state_dir), (json.dumps(doc, indent=1) + "\n").encode())


class _Running:
    """The head start under way: one thread per service; the project lock held until each has made its container."""

    def __init__(self, entry: dict[str, Any], root: Path, stack: str, offers: dict[str, dict[str, Any]], secrets: Any, lock_fd: int, first: str | None = None) -> None:
        self.entry = entry
        self.root, self.stack = root, stack
        self._first = first
        self._first_done = threading.Event()
        self._secrets = secrets
        self._values: dict[str, str] | None = None
        self._lock_fd: int | None = lock_fd
        self._guard = threading.Lock()
        self._reading = threading.Lock()
        self._results: dict[str, dict[str, Any] | None] = {}
        self._created = {name: threading.Event() for name in offers}
        self._threads = {name: threading.Thread(target=self._one, args=(name, offer), name=f"omnitron-head-start-{name}", daemon=True) for name, offer in offers.items()}
        for thread in self._threads.values():
            thread.start()
        # the store is read meanwhile: the runners need it only once the network is there, which takes longer
        threading.Thread(target=self._read_secrets, name="omnitron-head-start-secrets", daemon=True).start()

    def _one(self, service: str, offer: dict[str, Any]) -> None:
        from importlib import import_module

        record = None
        try:
            if self._first is not None and service != self._first:
                # starts wait for each other in the engine: the service the stack waits for longest goes alone first
                self._first_done.wait(FIRST_ALONE_S)
            module, _, name = offer["runner"].partition(":")
            record = getattr(import_module(module), name)(offer["recipe"], self._reveal, lambda: self._made(service))
        except Exception:  # noqa: BLE001 - the full path does it, and says what went wrong
            record = None
        finally:
            self._results[service] = {"provider": offer.get("provider"), "record": record} if isinstance(record, dict) else None
            if service == self._first:
                self._first_done.set()
            self._made(service)

    def _read_secrets(self) -> dict[str, str]:
        with self._reading:
            if self._values is None:
                self._values = self._secrets()
            return self._values

    def _reveal(self, value: Any) -> Any:
        """``value`` (a part of a recipe) with its secrets put back (once the store is read)."""
        from ..secret_tokens import decode

        return decode(value, self._read_secrets())

    def _made(self, service: str) -> None:
        """``service``'s runner made what it shares with the rest of the stack (or gave up): once all have, the lock goes."""
        self._created[service].set()
        if all(e.is_set() for e in self._created.values()):
            self.release()

    def wait_created(self, timeout: float) -> bool:
        """Wait until every runner made what the stack shares (or gave up); the lock is free from then on."""
        made = all(e.wait(timeout) for e in self._created.values())
        self.release()
        return made

    def release(self) -> None:
        with self._guard:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def waiter(self, service: str) -> Any:
        """``wait()``: ``{"provider", "record"}`` once ``service``'s runner is done, or ``None`` (it started nothing)."""
        def wait() -> dict[str, Any] | None:
            self._threads[service].join(WAIT_S)
            return self._results.get(service)

        return wait

    def join(self, timeout: float) -> None:
        for thread in self._threads.values():
            thread.join(timeout)


_running: list[_Running] = []
_begun: list[bool] = []
_switch_interval: list[float] = []
SWITCH_INTERVAL_S = 0.0005
"""The interpreter's thread switch interval while the runners make what the stack shares (5 ms otherwise)."""


def begin(opts: dict[str, Any]) -> None:
    """Start the head start of the ``infra up`` with options ``opts`` (:func:`omnitron.fastargs.parse_up`), if one holds."""
    if off() or _begun:
        return
    _begun.append(True)
    _switch_interval.append(sys.getswitchinterval())
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # its requests wait less for the interpreter, busy loading the rest
    try:
        started = _begin(opts)
    except Exception:  # noqa: BLE001 - a damaged file or store, a secret that does not decrypt: the full path says it
        started = None
    if started is None:
        sys.setswitchinterval(_switch_interval.pop())
    else:
        _running.append(started)


def _begin(opts: dict[str, Any]) -> _Running | None:
    from ..daemon.paths import STATE_DIRNAME, find_root
    from ..secret_tokens import wanted
    from .inputs import key_holds

    root = find_root(opts.get("project"))
    if root is None:
        return None
    state_dir = root / STATE_DIRNAME
    named = opts.get("stack")
    for entry in entries(state_dir):
        stack = entry.get("stack")
        if entry.get("root") != str(root) or entry.get("providerOption") != opts.get("provider") or not isinstance(stack, str):
            continue
        if (named is not None and stack != named) or (named is None and entry.get("defaultStack") != stack):
            continue
        if key_holds(entry["key"], state_dir, stack):
            break
    else:
        return None
    offers = entry.get("services") or {}
    slowest = entry.get("slowest")
    if not offers or (slowest is not None and slowest not in offers):
        return None  # what the stack waits for longest starts in the full path: the others would only slow it down
    from ..hostports import can_bind

    if not all(can_bind(port, host) is True for offer in offers.values() for host, port in offer.get("ports") or ()):
        return None  # the full path says what holds it, before anything starts
    from ..state.lock import acquire_fd
    from .store import store_values

    keys = set().union(*(wanted(o["recipe"]) for o in offers.values()))
    ref = entry.get("secretBackend")
    if keys and not ref:
        return None
    try:
        fd = acquire_fd(state_dir, wait=False)
    except Exception:  # noqa: BLE001 - another command works on the project: leave it all to the full path
        return None
    return _Running(entry, root, stack, offers, lambda: store_values(ref, entry["project"], root, keys) if keys else {}, fd, first=slowest if len(offers) > 1 else None)


def take_over(root: Path, stack: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """This process's head start (if any) handed to the full path, once every runner has made what the stack's
    services share (its network) and the project lock is free again: service -> ``wait()`` (``{"provider", "record"}``
    once its start is done, or ``None``), and the offers it ran (the full path keeps those that worked for the next
    cold ``up``). A head start of another project or stack is waited out and ignored."""
    if not _running:
        return {}, {}
    running = _running.pop()
    made = running.wait_created(WAIT_S)
    if _switch_interval:
        sys.setswitchinterval(_switch_interval.pop())
    if not made or running.root.resolve() != Path(root).resolve() or running.stack != stack:
        running.join(WAIT_S)
        return {}, {}
    return {service: running.waiter(service) for service in running._threads}, dict(running.entry.get("services") or {})
