"""The ``omnitron`` command line.

:func:`run` (the ``omnitron`` script) first tries the fast paths when the
command is one they answer (``infra up`` with nothing to do, ``infra status
--json``, ``omnitron run``; :mod:`omnitron.fastargs`), before cyclopts or any
plugin is imported: the project's daemon (:mod:`omnitron.daemon.fastpath`),
then the plan cache (:mod:`omnitron.plancache`); an ``infra up`` they do not answer
runs straight (:func:`omnitron.cli.root.run_up`, no cyclopts). On anything unexpected it goes
on with the normal command line (:func:`~omnitron.cli.root.main`), which works
with or without a daemon and rewrites the plan cache.
"""

from __future__ import annotations

import sys

__all__ = ["app", "main", "run"]


def __getattr__(name: str) -> object:
    if name in ("app", "main", "infra", "plugins_app", "config_app", "secret_app", "daemon_app", "backup_app"):
        from . import root as _app

        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``omnitron`` command line, in-process (no fast path)."""
    from .root import main as _main

    _ensure_streams()
    return _main(argv)


def _ensure_streams() -> None:
    """A closed stdout or stderr (``omnitron ... >&-``) becomes ``/dev/null``: output is dropped, nothing crashes."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def _up_directly(argv: list[str]) -> int | None:
    """``infra up`` spelt plainly (:func:`omnitron.fastargs.parse_up`) runs without building the cyclopts apps (about 60 ms of imports)."""
    from ..fastargs import parse_up

    options = parse_up(argv)
    if options is None:
        return None
    from .root import run_up

    return run_up(options)


def _head_start(argv: list[str]) -> None:
    """A cold ``infra up``'s services start now, from the last cold up's recipes, while the rest loads (:mod:`omnitron.plancache.headstart`)."""
    from ..fastargs import parse_up

    options = parse_up(argv)
    if options is not None:
        from ..plancache.headstart import begin

        begin(options)


def run() -> None:
    """The ``omnitron`` script: the daemon's fast path or the plan cache's when one answers, else :func:`main`; then a fast exit.

    Every command closes what it opened (clients, stores, files) before it
    returns, so after flushing the standard streams the interpreter's own
    teardown is skipped: with a Docker client and database drivers loaded it
    costs about 0.2 s on every command.
    """
    import os

    from ..fastargs import parse

    _ensure_streams()
    code = None
    fast = parse(sys.argv[1:])
    _head_start(sys.argv[1:])  # first: neither fast path answers an up of a stack that is down, which is all it starts
    if fast is not None:
        from ..daemon.fastpath import answer

        code = answer(*fast)
    if fast is not None and code is None:
        from ..plancache.answer import answer as answer_from_cache

        code = answer_from_cache(*fast)
    if code is None:
        code = _up_directly(sys.argv[1:])
    if code is None:
        code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)
