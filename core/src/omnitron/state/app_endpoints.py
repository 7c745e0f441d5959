"""Where apps listen: the port allocated for an app that declares none, and where ``omnitron run`` saw it listen.

Two tables, both per stack:

- ``app_ports``: a stable port per app (and port name) for apps that declare
  none, allocated once like a Redis DB index (:meth:`allocate_app_port`) and
  never handed to another app of the project, whichever stack;
- ``app_endpoints``: where the app listens, as ``omnitron run`` records it:
  first where it is expected to (its declared or allocated ports, when the
  command starts), then where it really listens once it does (observed from
  the process's sockets); a gateway's upstream map is generated from these.

The phantom janitor may drop the records of apps no longer declared
(:meth:`forget_app_endpoints`). No secret is ever stored here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from collections import namedtuple

from ..errors import OmnitronError

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any


class AppEndpoint(namedtuple("AppEndpoint", "app name host port source pid recorded_at")):
    """One port of an app, as recorded (immutable): ``app``, ``name`` (the port's, ``http``), ``host``, ``port`` (int),
    ``source`` (``expected``: what ``run`` handed the app, or ``observed``: where its process listens), ``pid``
    (int or None) and ``recorded_at`` (epoch seconds). A named tuple: reading the store imports no :mod:`dataclasses`."""

    __slots__ = ()


class AppPortsExhausted(OmnitronError):
    exit_code = 1


class AppEndpointsMixin:
    """:class:`~omnitron.state.StateStore`'s ``app_ports`` and ``app_endpoints`` tables."""

    _conn: Any
    transaction: Any

    # -- allocated ports -----------------------------------------------------------

    def allocate_app_port(self, stack: str, app: str, name: str, *, candidates: Iterable[int], avoid: set[int], is_free: Callable[[int], bool]) -> int:
        """A stable port for ``app``'s port ``name``: the recorded one, else the first candidate that is free.

        A candidate is skipped when it is in ``avoid`` (the plan's host ports,
        declared app ports), recorded for another app of any stack, or
        ``is_free`` says something listens on it now.
        """
        with self.transaction() as c:
            row = c.execute("SELECT port FROM app_ports WHERE stack=? AND app=? AND name=?", (stack, app, name)).fetchone()
            if row:
                return int(row[0])
            taken = {r[0] for r in c.execute("SELECT port FROM app_ports")}
            for port in candidates:
                if port in taken or port in avoid or not is_free(port):
                    continue
                c.execute("INSERT INTO app_ports(stack, app, name, port, allocated_at) VALUES (?,?,?,?,?)", (stack, app, name, port, time.time()))
                return port
        raise AppPortsExhausted(f"app {app}: no free port left to allocate for its port {name!r}: declare one (\"ports\": {{\"http\": 3000}})")

    def app_ports(self, stack: str) -> dict[str, dict[str, int]]:
        """App -> port name -> the port allocated for it in ``stack``."""
        out: dict[str, dict[str, int]] = {}
        for app, name, port in self._conn.execute("SELECT app, name, port FROM app_ports WHERE stack=? ORDER BY app, name", (stack,)):
            out.setdefault(app, {})[name] = int(port)
        return out

    # -- where apps listen -----------------------------------------------------------

    def record_app_endpoints(self, stack: str, app: str, ports: Mapping[str, tuple[str, int]], *, source: str, pid: int | None = None) -> bool:
        """Replace what is recorded of where ``app`` listens with ``ports`` (name -> host, port); whether an address changed."""
        now = time.time()
        with self.transaction() as c:
            before = {n: (h, int(p)) for n, h, p in c.execute("SELECT name, host, port FROM app_endpoints WHERE stack=? AND app=?", (stack, app))}
            c.execute("DELETE FROM app_endpoints WHERE stack=? AND app=?", (stack, app))
            c.executemany(
                "INSERT INTO app_endpoints(stack, app, name, host, port, source, pid, recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                [(stack, app, name, host, int(port), source, pid, now) for name, (host, port) in sorted(ports.items())],
            )
        return before != {n: (h, int(p)) for n, (h, p) in ports.items()}

    def app_endpoints(self, stack: str) -> dict[str, dict[str, AppEndpoint]]:
        """App -> port name -> where it was last recorded listening, in ``stack``."""
        out: dict[str, dict[str, AppEndpoint]] = {}
        rows = self._conn.execute("SELECT app, name, host, port, source, pid, recorded_at FROM app_endpoints WHERE stack=? ORDER BY app, name", (stack,))
        for app, name, host, port, source, pid, recorded_at in rows:
            out.setdefault(app, {})[name] = AppEndpoint(app, name, host, int(port), source, pid, recorded_at)
        return out

    def forget_app_endpoints(self, stack: str, app: str, *, ports: bool = False) -> None:
        """Drop where ``app`` was recorded listening (and, with ``ports``, the ports allocated for it)."""
        with self.transaction() as c:
            c.execute("DELETE FROM app_endpoints WHERE stack=? AND app=?", (stack, app))
            if ports:
                c.execute("DELETE FROM app_ports WHERE stack=? AND app=?", (stack, app))
