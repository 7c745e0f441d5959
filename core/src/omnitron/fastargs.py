"""The command lines the fast paths answer, parsed before cyclopts or any plugin is imported, and how they end (standard library only).

``infra up`` (``--no-daemon`` allowed), ``infra status --json`` (``ps``) and
``omnitron run APP [-- CMD...]``; each with at most ``--project``/``-p`` and
``--stack``/``-s``. Anything else is for the normal command line. Both the
daemon's fast path (:mod:`omnitron.daemon.fastpath`) and the plan cache's
(:mod:`omnitron.plancache.answer`) answer what :func:`parse` returns, and become
the app's command with :func:`become`.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def is_name(name: str) -> bool:
    """Whether ``name`` can be an app's or a stack's name (it then needs no escaping in a URL or a file name)."""
    return bool(name) and set(name) <= _NAME_CHARS and not name.startswith(".")


def quote(name: str) -> str:
    """``name`` as it goes in a URL or a file name (:class:`ValueError` when it is not a name)."""
    if not is_name(name):
        raise ValueError(f"not a name: {name!r}")
    return name


def parse(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``(command, options)`` for a command line a fast path may answer, else ``None``."""
    words, opts = _split(argv)
    if words is None or not _named_first(argv, words):
        return None
    if words[:2] == ["infra", "up"] and len(words) == 2 and not opts.get("json"):
        return "up", opts
    if opts.get("noDaemon"):
        return None
    if words[:2] in (["infra", "status"], ["infra", "ps"]) and len(words) == 2 and opts.get("json"):
        return "status", opts
    if words[:1] == ["run"] and len(words) == 2 and not opts.get("json") and is_name(words[1]):
        return "run", {**opts, "app": words[1]}
    return None


def parse_up(argv: list[str]) -> dict[str, Any] | None:
    """The options of an ``infra up`` command line (``--project``, ``--stack``, ``--provider``, ``--json``, ``--no-daemon``,
    each at most once), as :func:`omnitron.cli.infra_up.up` takes them; ``None`` for any other command line."""
    words, opts = _split(argv, provider=True)
    if words != ["infra", "up"] or argv[:2] != words or "command" in opts:
        return None
    return {"project": opts.get("project"), "stack": opts.get("stack"), "provider": opts.get("provider"),
            "as_json": bool(opts.get("json")), "no_daemon": bool(opts.get("noDaemon"))}


def _named_first(argv: list[str], words: list[str]) -> bool:
    """Whether the command's name leads the command line (``infra up``, ``run``): the normal command line takes options only after it."""
    named = 1 if words[:1] == ["run"] else 2
    return argv[:named] == words[:named]


_VALUED = {"--project": "project", "-p": "project", "--stack": "stack", "-s": "stack"}


def _split(argv: list[str], *, provider: bool = False) -> tuple[list[str] | None, dict[str, Any]]:
    words: list[str] = []
    opts: dict[str, Any] = {}
    valued = {**_VALUED, "--provider": "provider"} if provider else _VALUED
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            opts["command"] = argv[i + 1 :]
            break
        name, eq, value = arg.partition("=")
        if name in valued:
            if not eq:
                i += 1
                if i >= len(argv):
                    return None, {}
                value = argv[i]
            if provider and (valued[name] in opts or not value or value.startswith("-")):
                return None, {}  # repeated, empty or a missing value: the normal command line says what is wrong
            opts[valued[name]] = value
        elif arg in ("--json", "--no-daemon"):
            key = "json" if arg == "--json" else "noDaemon"
            if provider and key in opts:
                return None, {}
            opts[key] = True
        elif arg.startswith("-"):
            return None, {}
        else:
            words.append(arg)
        i += 1
    return words, opts


def become(argv: list[str], env: dict[str, str], cwd: str | None = None) -> int:
    """``exec`` ``argv`` with ``env`` over this process's environment (in ``cwd``); the exit code when it cannot start."""
    sys.stdout.flush()
    sys.stderr.flush()
    if cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    try:
        os.execvpe(argv[0], argv, {**os.environ, **{str(k): str(v) for k, v in env.items()}})
    except FileNotFoundError:
        print(f"omnitron: command not found: {argv[0]}", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"omnitron: command not executable: {argv[0]}", file=sys.stderr)
        return 126
    return 0  # not reached
