"""How a preset says it can run as a native process (used by the process provider).

A preset returns a :class:`ProcessRecipe` from ``Preset.process_recipe()``.
The process provider finds the binaries, initialises the data directory once,
starts the command detached and supervises it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .providers import RuntimeSpec


@dataclass
class ProcessRun:
    """Where and how one service runs as a process."""

    spec: RuntimeSpec
    data_dir: Path
    run_dir: Path
    """Sockets, pid files: short-lived runtime files."""
    binaries: dict[str, Path] = field(default_factory=dict)
    """Resolved executables by name."""
    port: dict[str, int] = field(default_factory=dict)
    """Host ports the process must listen on, by port name."""
    bind_address: str = "127.0.0.1"
    user: str | None = None
    """Unprivileged user to run as (when omnitron runs as root and the service refuses root)."""


class ProcessRecipe(ABC):
    """How to initialise and start one kind of service as a native process."""

    binaries: tuple[str, ...] = ()
    """Executables needed, found on PATH, in :attr:`search_paths` or in a wheel."""
    search_paths: tuple[str, ...] = ()
    """Extra globs to look in, e.g. ``/usr/lib/postgresql/*/bin``."""
    refuses_root: bool = False
    install_hint: str = ""
    """How to get the binaries, shown when none is found."""

    def locate_extra(self) -> list[Path]:
        """Directories holding the binaries from a wheel (``[embedded]`` extra), if installed."""
        return []

    async def initialise(self, run: ProcessRun) -> None:
        """Prepare an empty data directory (``initdb``). Called once per data directory."""

    @abstractmethod
    def command(self, run: ProcessRun) -> list[str]:
        """The command that runs the service in the foreground."""

    def env(self, run: ProcessRun) -> dict[str, str]:
        return {}

    def stdin(self, run: ProcessRun) -> bytes | None:
        """Bytes written to the process's stdin then closed (config kept off disk)."""
        return None
