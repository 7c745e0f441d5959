"""Work left to a detached shell once this process has exited: refilling a cache after a command used it.

:func:`run_after_exit` starts ``sh`` in a session of its own, which puts the
work in the background and exits at once (nothing is left to wait on). The
work begins when this process exits, or after ``wait_at_most`` seconds for
one that goes on (a daemon): it waits by reading a pipe whose only writer is
this process, so nothing polls beside the command. Meanwhile the disk serves
what the command just started.
"""

from __future__ import annotations

import os
import subprocess

_exit_pipe: list[int] = []
"""A pipe this process holds open until it exits: the waiting shell reads it, end of file is the exit."""


def run_after_exit(script: str, *args: str, wait_at_most: float) -> None:
    """Run the shell ``script`` (its arguments ``$1``... are ``args``) detached, once this process has exited or
    ``wait_at_most`` seconds have passed; its output is discarded."""
    if not _exit_pipe:
        _exit_pipe.extend(os.pipe())  # not inherited: processes started later do not hold the writing end
    wrapper = f'exec 3<&0; wait="$1"; shift; (timeout "$wait" cat <&3 >/dev/null 2>&1; exec 3<&-; {script}) </dev/null >/dev/null 2>&1 &'
    subprocess.run(
        ["sh", "-c", wrapper, "after-exit", f"{wait_at_most:g}", *args],
        stdin=_exit_pipe[0], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, check=False,
    )
