"""Quick checks: cheap, generic proofs that a service the last full command saw is still there and answering.

The plan cache (:mod:`omnitron.plancache`) answers ``infra up`` with nothing to
do, ``infra status --json`` and ``omnitron run`` without loading pydantic, a
driver or a plugin. What it cannot take from the cache is whether the services
still run: that it asks with these checks, which the core defines and runs
with the standard library alone. Plugins never run code here; they *describe*
checks, on the full path, through :meth:`Provider.quick_checks
<omnitron.providers.Provider.quick_checks>` (it is still the process, the
container we saw) and :meth:`HealthProbe.quick_check
<omnitron.health.HealthProbe.quick_check>` (the server still answers its
protocol), and the cache stores them as plain data.

The kinds:

- ``pid``: a process alive (not a zombie), with the start time the kernel gave it
  (``/proc/<pid>/stat`` field 22), its process group and its executable, so a
  recycled pid is never taken for the service;
- ``tcp``: a connection to ``host:port`` opens; with ``send``, the bytes are
  sent and the first bytes of the answer must start with one of ``expect``
  (a protocol-level "it accepts connections");
- ``http``: ``GET path`` over TCP or a Unix socket (``socket``) answers
  ``status``, and each dotted ``json`` key of the JSON body has the given value
  (``{"State.Running": true}`` of a Docker engine's container).

A check proves liveness and that the server speaks; it never authenticates.
Authentication was proven by the full command that wrote the cache, with the
credentials in the secret store, and cannot change without the store
changing, which invalidates the cache. A check that fails sends the command
down its full path, which probes for real and repairs.
"""

from __future__ import annotations

import json
import os
import socket

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

TIMEOUT = 2.0
"""Seconds one check may take (a hung server is for the full path to judge)."""
MAX_REPLY = 1 << 20
KINDS = ("pid", "tcp", "http")


class QuickCheck:
    """One check as data (a plain class: ``dataclasses`` costs import time on the fast path).

    Build one with :meth:`pid`, :meth:`tcp` or :meth:`http`; :meth:`run` executes it.
    """

    __slots__ = ("kind", "params")

    def __init__(self, kind: str, **params: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown quick check kind {kind!r}; known: {', '.join(KINDS)}")
        self.kind = kind
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuickCheck) and (self.kind, self.params) == (other.kind, other.params)

    def __repr__(self) -> str:
        return f"QuickCheck({self.kind!r}, {self.params!r})"

    # -- constructors (what plugins call) -------------------------------------

    @classmethod
    def pid(cls, pid: int, *, starttime: int | None = None, pgid: int | None = None, exe: str | None = None) -> QuickCheck:
        """Process ``pid`` runs, and is the one started at ``starttime`` (clock ticks since boot) in group ``pgid`` running ``exe``."""
        return cls("pid", pid=int(pid), starttime=starttime, pgid=pgid, exe=exe)

    @classmethod
    def tcp(cls, host: str, port: int, *, send: bytes = b"", expect: tuple[bytes, ...] = ()) -> QuickCheck:
        """``host:port`` accepts a connection; after ``send``, the answer starts with one of ``expect``."""
        return cls("tcp", host=host, port=int(port), send=send.hex(), expect=[e.hex() for e in expect])

    @classmethod
    def http(cls, path: str, *, host: str = "127.0.0.1", port: int | None = None, socket: str | None = None, status: int = 200, json: dict[str, Any] | None = None) -> QuickCheck:
        """``GET path`` on ``host:port`` (or the Unix socket ``socket``) answers ``status`` and, in its JSON body, the ``json`` values (dotted keys)."""
        if (port is None) == (socket is None):
            raise ValueError("give either port or socket")
        return cls("http", path=path, host=host, port=port, socket=socket, status=int(status), json=dict(json or {}))

    # -- as data ----------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuickCheck:
        params = dict(data)
        return cls(params.pop("kind"), **params)

    def describe(self) -> str:
        """What it checks, for people (``pid 4242 alive``, ``127.0.0.1:5432 answers``)."""
        p = self.params
        if self.kind == "pid":
            return f"pid {p['pid']} alive"
        if self.kind == "tcp":
            return f"{p['host']}:{p['port']} " + ("answers" if p.get("send") else "open")
        where = p["socket"] if p.get("socket") else f"{p['host']}:{p['port']}"
        return f"GET {p['path']} on {where}: {p['status']}"

    # -- running ------------------------------------------------------------------

    def run(self, timeout: float = TIMEOUT) -> str | None:
        """``None`` when it passes, else why not (one line)."""
        try:
            return _RUNNERS[self.kind](self.params, timeout)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            return f"{self.describe()}: {type(exc).__name__}: {exc}"


def run_all(checks: list[dict[str, Any]], timeout: float = TIMEOUT) -> str | None:
    """Run stored checks (:meth:`QuickCheck.as_json`) in order; the first failure's reason, or ``None``."""
    for data in checks:
        problem = QuickCheck.from_json(data).run(timeout)
        if problem is not None:
            return problem
    return None


def proc_starttime(pid: int) -> tuple[str, int, int] | None:
    """``(state, pgid, starttime)`` of ``pid`` from ``/proc``, or ``None`` when there is no such process (or no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), int(fields[19])


def _pid(p: dict[str, Any], timeout: float) -> str | None:
    pid = int(p["pid"])
    stat = proc_starttime(pid)
    if stat is None:
        return f"pid {pid} is gone"
    state, pgid, starttime = stat
    if state in ("Z", "X"):
        return f"pid {pid} has exited"
    if p.get("pgid") is not None and pgid != p["pgid"]:
        return f"pid {pid} is another process (process group {pgid}, not {p['pgid']})"
    if p.get("starttime") is not None and starttime != p["starttime"]:
        return f"pid {pid} is another process (started later)"
    exe = p.get("exe")
    if exe:
        try:
            seen = os.path.realpath(os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)"))
        except OSError:
            seen = None  # another user's process: its start time and group said enough
        if seen is not None and seen != exe:
            return f"pid {pid} runs {seen}, not {exe}"
    return None


def _connect(p: dict[str, Any], timeout: float) -> socket.socket:
    if p.get("socket"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(p["socket"])
        except BaseException:
            sock.close()
            raise
        return sock
    return socket.create_connection((p["host"], int(p["port"])), timeout=timeout)


def _tcp(p: dict[str, Any], timeout: float) -> str | None:
    with _connect(p, timeout) as sock:
        send = bytes.fromhex(p.get("send") or "")
        if not send:
            return None
        sock.sendall(send)
        expect = [bytes.fromhex(e) for e in p.get("expect") or []]
        want = max((len(e) for e in expect), default=1)
        got = b""
        while len(got) < want:
            chunk = sock.recv(want - len(got))
            if not chunk:
                break
            got += chunk
    if expect and not any(got.startswith(e) for e in expect):
        return f"{p['host']}:{p['port']}: unexpected answer {got[:32]!r}"
    return None


def _http(p: dict[str, Any], timeout: float) -> str | None:
    where = p["socket"] if p.get("socket") else f"{p['host']}:{p['port']}"
    host = "localhost" if p.get("socket") else p["host"]
    request = f"GET {p['path']} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n".encode()
    chunks: list[bytes] = []
    size = 0
    with _connect(p, timeout) as sock:
        sock.sendall(request)
        while size < MAX_REPLY:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    if status != p["status"]:
        return f"GET {p['path']} on {where}: status {status}, expected {p['status']}"
    expected = p.get("json") or {}
    if not expected:
        return None
    data = json.loads(body)
    for dotted, value in expected.items():
        seen: Any = data
        for part in dotted.split("."):
            seen = seen.get(part) if isinstance(seen, dict) else None
        if seen != value:
            return f"GET {p['path']} on {where}: {dotted} is {seen!r}, expected {value!r}"
    return None


_RUNNERS = {"pid": _pid, "tcp": _tcp, "http": _http}
