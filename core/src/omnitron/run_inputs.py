"""What a run reads that its caches check again (standard library only): environment variables and installed distributions.

:class:`EnvReads` notes every environment variable read while it is active;
:func:`distributions` lists the distributions' metadata entries in one import
path directory. The plan cache and the CLI's output cache both use them.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    from typing import Any

METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg-link")


class EnvReads:
    """Records which environment variables are read while active: ``os.environ[...]``, ``.get``, ``in``,
    ``os.getenv``, ``setdefault``, ``pop`` and writes by name; iterating it (``keys``, ``items``, ``copy``, ``len``...)
    sets :attr:`listed` (the run depended on every variable).

    It patches ``os.environ``'s class, so a reference to ``os.environ`` taken earlier is seen too; nested recorders
    all record.
    """

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.listed = False

    def __enter__(self) -> EnvReads:
        cls = type(os.environ)
        self._saved = {name: cls.__dict__[name] for name in ("__getitem__", "__setitem__", "__delitem__", "__iter__", "__len__")}
        saved = self._saved
        names = self.names

        def named(method: Any) -> Any:
            def recorded(env: Any, key: Any, *args: Any) -> Any:
                if isinstance(key, str):  # os.environb shares the class: its bytes names are not ours
                    names.add(key)
                return method(env, key, *args)

            return recorded

        def listing(method: Any) -> Any:
            def recorded(env: Any) -> Any:
                if env is os.environ:
                    self.listed = True
                return method(env)

            return recorded

        for name in ("__getitem__", "__setitem__", "__delitem__"):
            setattr(cls, name, named(saved[name]))
        for name in ("__iter__", "__len__"):
            setattr(cls, name, listing(saved[name]))
        return self

    def __exit__(self, *exc: object) -> None:
        cls = type(os.environ)
        for name, method in self._saved.items():
            setattr(cls, name, method)


def distributions(path: str) -> list[tuple[str, str]] | None:
    """The ``*.dist-info`` / ``*.egg-info`` / ``*.egg-link`` entries of one import path directory, as sorted
    ``(name, path)`` pairs; ``None`` when ``path`` cannot be listed."""
    try:
        with os.scandir(path or os.curdir) as entries:
            return sorted((e.name, e.path) for e in entries if e.name.endswith(METADATA_SUFFIXES))
    except OSError:
        return None
