"""Progress of a provisioning run: events, per-service timings, and two views.

Phases, in the order a service goes through them: ``pending`` (waiting for
dependencies), ``pulling``, ``creating``, ``starting`` (from providers),
``waiting`` (health), ``preparing`` (preset preparation and allocations), then
``ready``, ``failed`` or ``degraded`` (a non-critical service that failed).

The engine reports ``(service, phase, detail)`` through a
:data:`~omnitron.providers.ProgressFn`; providers report through the same
callback. :class:`Timeline` records every event with its time, so a view (or
``--json``) can show how long each service spent pulling, starting and
waiting for health.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

FINAL = ("ready", "failed", "degraded")

LABELS = {
    "pending": "pending",
    "pulling": "pulling image",
    "creating": "creating",
    "starting": "starting",
    "waiting": "waiting for health",
    "preparing": "preparing",
    "ready": "ready",
    "failed": "failed",
    "degraded": "not ready (non-critical)",
}


@dataclass
class ProgressEvent:
    service: str
    phase: str
    detail: str
    at: float
    """``time.monotonic()`` when it happened."""
    elapsed: float
    """Seconds since the service's first event."""


@dataclass
class ServiceTimeline:
    """What one service went through: current phase and the time spent in each."""

    service: str
    started: float
    phase: str = "pending"
    detail: str = ""
    phase_started: float = 0.0
    durations: dict[str, float] = field(default_factory=dict)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "detail": self.detail,
            "seconds": round(self.elapsed, 3),
            "phases": {k: round(v, 3) for k, v in self.durations.items()},
        }


class Timeline:
    """A :data:`~omnitron.providers.ProgressFn` that records events and forwards them to listeners."""

    def __init__(self, *listeners: Callable[[ProgressEvent, "Timeline"], None]) -> None:
        self.services: dict[str, ServiceTimeline] = {}
        self.events: list[ProgressEvent] = []
        self.listeners = list(listeners)
        self.started = time.monotonic()

    def add(self, service: str) -> None:
        """Show ``service`` as pending before anything happens to it."""
        now = time.monotonic()
        self.services.setdefault(service, ServiceTimeline(service, started=now, phase_started=now))

    def __call__(self, service: str, phase: str, detail: str = "") -> None:
        now = time.monotonic()
        tl = self.services.get(service)
        if tl is None:
            tl = self.services[service] = ServiceTimeline(service, started=now, phase_started=now)
        if tl.phase == "pending" and not tl.durations and phase != "pending":
            # time spent pending counts from the first real event on
            tl.durations["pending"] = now - tl.phase_started
        elif tl.phase != phase:
            tl.durations[tl.phase] = tl.durations.get(tl.phase, 0.0) + now - tl.phase_started
        if tl.phase != phase:
            tl.phase_started = now
        tl.phase = phase
        tl.detail = detail
        if phase in FINAL:
            tl.finished = now
        event = ProgressEvent(service, phase, detail, now, now - tl.started)
        self.events.append(event)
        for listener in self.listeners:
            listener(event, self)


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


class PlainView:
    """One line per step, for logs and pipes: ``db: waiting for health (tcp ...) [0.4s]``.

    A new phase always gets a line, and so does every new step a provider
    reports (``starting (pid 4242 ...)`` after ``starting (process)``); the
    details that repeat (failed probes while waiting, pull progress) at most
    one per :attr:`REPEAT_EVERY` seconds.
    """

    REPEAT_EVERY = 1.0
    REPEATING = ("waiting", "pulling")
    """Phases whose detail keeps changing while nothing new happens."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.last: dict[str, tuple[str, str, float]] = {}

    def __call__(self, event: ProgressEvent, timeline: Timeline) -> None:
        previous = self.last.get(event.service)
        if previous is not None and previous[0] == event.phase and event.phase not in FINAL:
            if previous[1] == event.detail or (event.phase in self.REPEATING and event.at - previous[2] < self.REPEAT_EVERY):
                return
        self.last[event.service] = (event.phase, event.detail, event.at)
        label = LABELS.get(event.phase, event.phase)
        detail = f" ({event.detail})" if event.detail else ""
        self.stream.write(f"{event.service}: {label}{detail} [{_fmt_seconds(event.elapsed)}]\n")
        self.stream.flush()


class LiveView:
    """A live table (rich) with one row per service: phase, detail and time.

    Use as a context manager around the run; it is a :class:`Timeline` listener.
    """

    STYLES = {"ready": "green", "failed": "bold red", "degraded": "yellow", "waiting": "cyan", "pulling": "magenta"}

    def __init__(self, console: Any = None, providers: dict[str, str] | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = console or Console(highlight=False)
        self.providers = providers or {}
        self.timeline: Timeline | None = None
        self.live = Live(console=self.console, refresh_per_second=10, transient=False, get_renderable=self._render)

    def __enter__(self) -> "LiveView":
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, event: ProgressEvent, timeline: Timeline) -> None:
        self.timeline = timeline

    def attach(self, timeline: Timeline) -> None:
        self.timeline = timeline
        timeline.listeners.append(self)

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for col in ("service", "provider", "state", "detail", "time"):
            table.add_column(col, no_wrap=col != "detail", overflow="fold")
        if self.timeline is None:
            return table
        for name, tl in self.timeline.services.items():
            style = self.STYLES.get(tl.phase, "")
            spinner = "" if tl.phase in FINAL else " …"
            table.add_row(
                name,
                self.providers.get(name, ""),
                Text(LABELS.get(tl.phase, tl.phase) + spinner, style=style),
                Text(tl.detail[:160]),
                _fmt_seconds(tl.elapsed),
            )
        return table
