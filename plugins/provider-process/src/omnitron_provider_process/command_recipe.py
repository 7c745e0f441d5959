"""The recipe of a custom service that declares ``process.command`` instead of naming a preset's recipe."""

from __future__ import annotations

from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun


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
