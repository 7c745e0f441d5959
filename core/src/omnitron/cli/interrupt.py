"""Ctrl-C during ``infra up``/``reset``: stop cleanly, say where each service was, and what is left running.

The first ``SIGINT`` cancels the work (a half-started native process is
stopped, nothing is recorded ready that was not prepared); the next ``up``
finishes what was interrupted. From then on a second ``SIGINT`` ends the
process at once (exit 130), whatever is still being tidied up.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

EXIT_INTERRUPTED = 130
CHECK_SECONDS = 10.0
"""How long the look at what is left running may take."""


def _exit_at_once(signum: int, frame: Any) -> None:
    os.write(2, b"omnitron: interrupted again: exiting now\n")
    os._exit(EXIT_INTERRUPTED)


class Interrupted(Exception):
    """The work was cancelled by Ctrl-C (``SIGINT``)."""


def run_interruptible(work: Callable[..., Any], *args: Any) -> Any:
    """``await work(*args)`` in an event loop; :class:`Interrupted` after a first ``SIGINT`` cancelled it."""
    import anyio

    interrupted = False

    async def main() -> Any:
        nonlocal interrupted
        result: list[Any] = []
        failure: list[BaseException] = []
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                nonlocal interrupted
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        interrupted = True
                        break
                # only now: closing the receiver put Python's own handler back
                signal.signal(signal.SIGINT, _exit_at_once)
                sys.stderr.write("omnitron: interrupted: stopping what was starting (Ctrl-C again to exit at once)\n")
                sys.stderr.flush()
                tg.cancel_scope.cancel()

            async def do() -> None:
                try:
                    result.append(await work(*args))
                except Exception as exc:  # raised as itself below, not in an exception group
                    failure.append(exc)
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            tg.start_soon(do)
        if interrupted:
            raise Interrupted
        if failure:
            raise failure[0]
        return result[0]

    previous = signal.getsignal(signal.SIGINT)
    try:
        return anyio.run(main)
    finally:
        if signal.getsignal(signal.SIGINT) is not _exit_at_once:
            signal.signal(signal.SIGINT, previous)


def report(out: Any, timeline: Any, left_running: Callable[[], dict[str, str]]) -> int:
    """Print where each unfinished service was and what still runs (``SIGINT`` now exits at once); exit code 130."""
    from ..engine.progress import FINAL, LABELS

    signal.signal(signal.SIGINT, _exit_at_once)
    cut = [(name, tl) for name, tl in timeline.services.items() if tl.phase not in FINAL]
    if cut:
        where = ", ".join(f"{name} while {LABELS.get(tl.phase, tl.phase)}" + (f" ({tl.detail})" if tl.detail else "") for name, tl in cut)
        out.print(f"[yellow]interrupted:[/yellow] {where}", soft_wrap=True)
    done = [f"{name} {tl.phase}" for name, tl in timeline.services.items() if tl.phase in FINAL]
    if done:
        out.print(f"finished before: {', '.join(done)}", soft_wrap=True)
    try:
        running = left_running()
    except Exception as exc:  # noqa: BLE001 - the report must not fail the interrupted command
        out.print(f"left running: unknown ({type(exc).__name__}: {exc}); `omnitron infra status` tells", soft_wrap=True)
    else:
        listed = ", ".join(f"{name} ({what})" for name, what in running.items()) or "nothing"
        out.print(f"left running: {listed}", soft_wrap=True)
    out.print("`omnitron infra up` finishes what was interrupted; `omnitron infra down` stops the rest.")
    sys.stdout.flush()
    return EXIT_INTERRUPTED
