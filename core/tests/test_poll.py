"""The poll helper: attempts with backoff until the deadline, always at least one."""

from __future__ import annotations

import time

import pytest

from omnitron import poll


def test_delays_double_up_to_the_cap():
    waits = poll.delays(0.01, 0.05)
    assert [round(next(waits), 3) for _ in range(5)] == [0.01, 0.02, 0.04, 0.05, 0.05]


def test_sync_attempts_stop_at_the_deadline_and_there_is_always_one():
    start = time.monotonic()
    numbers = [a.number for a in poll.attempts_sync(0.2, first=0.01, cap=0.05)]
    elapsed = time.monotonic() - start
    assert numbers[0] == 1 and len(numbers) >= 3 and 0.2 <= elapsed < 1.0
    assert [a.number for a in poll.attempts_sync(0)] == [1]


@pytest.mark.anyio
async def test_async_attempts_end_early_when_the_loop_breaks():
    seen = []
    async for attempt in poll.attempts(5, first=0.001):
        seen.append(attempt.number)
        if attempt.number == 3:
            break
    assert seen == [1, 2, 3]
