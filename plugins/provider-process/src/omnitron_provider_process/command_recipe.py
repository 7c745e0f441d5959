"""The recipe of a custom service that declares ``process.command`` instead of naming a preset's recipe."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError


class CommandRecipe(ProcessRecipe):
    """Runs the service's rendered command with its rendered env; the data directory is its working directory."""

    resolve_links: ClassVar[bool] = False

    def __init__(self, command: list[str]) -> None:
        if not command:
            raise ValueError("empty command")
        self.argv = list(command)
        self.binaries = (command[0],)
        self.install_hint = f"install {command[0]!r} or give its absolute path in process.command"

    def command(self, run: ProcessRun) -> list[str]:
        argv = list(run.spec.command or self.argv)
        argv[0] = str(next(iter(run.binaries.values())))
        return argv

    def env(self, run: ProcessRun) -> dict[str, str]:
        return dict(run.spec.env)


def resolve_command(service: str, argv: list[str], binaries: dict[str, Path], path: str) -> list[str]:
    """``argv`` with its program as a path: a bare name is one of the recipe's binaries, else looked up on ``path``.

    A bare name that is found nowhere is refused: the started process could
    not be recognised again (``status`` and ``down`` would lose it).
    """
    head = argv[0]
    if "/" in head:
        return argv
    found = binaries.get(head) or shutil.which(head, path=path)
    if found is None:
        raise ProvisionError(
            f"service {service}: the process recipe's command starts with {head!r}, which is not on PATH ({path}): "
            f"install {head}, or return a path from ProcessRecipe.command (run.binaries[{head!r}])"
        )
    return [str(found), *argv[1:]]
