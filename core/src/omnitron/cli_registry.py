"""How plugins describe CLI commands without importing the CLI framework."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    """A command added to the ``omnitron`` CLI.

    :param name: the command's name (``psql``).
    :param target: import string of the function, ``"package.module:function"``;
        a cyclopts-style function whose parameters become the options.
    :param group: the sub-app it lives under (``infra``) or ``""`` for the root.
    :param help: one line shown in ``--help``.
    """

    name: str
    target: str
    group: str = "infra"
    help: str = ""
