"""The secret backend interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import namedtuple
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read secrets
if TYPE_CHECKING:
    from typing import ClassVar


class SecretContext(namedtuple("SecretContext", "project project_dir state_dir options")):
    """Where a backend may keep things: never plaintext, never the key in the project (immutable).

    ``project`` (its name), ``project_dir`` and ``state_dir`` (``<project>/.omnitron``) as paths, ``options`` a dict
    of the backend's own settings (a new empty one when not given). A named tuple, not a dataclass: the fast paths
    that read secrets do not import :mod:`dataclasses`.
    """

    __slots__ = ()

    def __new__(cls, project: str, project_dir: Path, state_dir: Path, options: dict[str, object] | None = None) -> SecretContext:
        return super().__new__(cls, project, project_dir, state_dir, {} if options is None else options)


class SecretBackend(ABC):
    """Stores secret values by key. Values never reach disk in plain text."""

    name: ClassVar[str]
    writable: ClassVar[bool] = True
    light: ClassVar[bool] = False
    """Its module imports only the standard library (and ``cryptography`` when a value is read), so the plan
    cache's fast ``omnitron run`` may read secrets through it (:mod:`omnitron.plancache`); otherwise that
    command takes its full path."""

    def __init__(self, ctx: SecretContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def get(self, key: str) -> str | None:
        """The value of ``key``, or ``None`` when it is not set."""

    @abstractmethod
    def set(self, key: str, value: str) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; ``False`` when it was not set."""

    @abstractmethod
    def list(self) -> list[str]:
        """Every key, sorted; never the values."""

    def watched_files(self) -> list[Path] | None:
        """The files every value lives in (a change there may change a value), or ``None`` when values may change
        elsewhere (a remote store). ``None`` keeps the plan cache off for projects using this backend, the safe
        default; values that live in environment variables need ``[]`` (the environment is checked anyway)."""
        return None

    def missing_hint(self, key: str) -> str:
        """How the user sets ``key``: ends the "secret ... is not set" message."""
        return f"run omnitron secret set {key}"
