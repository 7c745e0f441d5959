"""The plain progress lines (pipes, logs): every step a provider reports is printed; only repeating details are thinned."""

from __future__ import annotations

import io

from omnitron.engine.progress import PlainView, Timeline


def lines(*events: tuple[str, str]) -> list[str]:
    out = io.StringIO()
    timeline = Timeline(PlainView(out))
    for phase, detail in events:
        timeline("db", phase, detail)
    return [line.rsplit(" [", 1)[0] for line in out.getvalue().splitlines()]


def test_a_new_step_in_the_same_phase_gets_its_line_at_once():
    # a crash test (and a user) waits for `db: starting (pid ...)`, reported right after `starting (process)`
    assert lines(("starting", "process"), ("starting", "pid 4242: postgres")) == ["db: starting (process)", "db: starting (pid 4242: postgres)"]


def test_repeating_details_are_thinned_and_the_same_detail_is_never_repeated():
    got = lines(("waiting", "tcp: refused"), ("waiting", "tcp: timed out"), ("waiting", "tcp: refused"), ("pulling", "1 MB"), ("pulling", "2 MB"), ("ready", "ok"))
    assert got == ["db: waiting for health (tcp: refused)", "db: pulling image (1 MB)", "db: ready (ok)"]
    assert lines(("starting", "process"), ("starting", "process")) == ["db: starting (process)"]
