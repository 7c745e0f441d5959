"""``omnitron plugins new NAME --kind preset|provider``: a plugin package that installs and passes its own tests.

The package is ``omnitron-NAME`` with ``src/omnitron_NAME/`` (the plugin,
registered through the ``omnitron`` entry point, importing only
:mod:`omnitron.api`), ``tests/`` (a preset's expansion and plan; a provider
under the provider contract suite), ``pyproject.toml`` and ``README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..errors import ConfigError
from . import preset_files, provider_files

KINDS = ("preset", "provider")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Names:
    """How one plugin name is spelled where: ``acme-queue``, ``omnitron-acme-queue``, ``omnitron_acme_queue``, ``AcmeQueue``."""

    name: str

    @property
    def distribution(self) -> str:
        return f"omnitron-{self.name}"

    @property
    def module(self) -> str:
        return f"omnitron_{self.name.replace('-', '_')}"

    @property
    def camel(self) -> str:
        return "".join(part.title() for part in self.name.split("-"))

    def substitutions(self) -> dict[str, str]:
        const = self.name.upper().replace("-", "_")
        return {"name": self.name, "distribution": self.distribution, "module": self.module, "Camel": self.camel, "CONST": const}


def new_plugin(name: str, kind: str, directory: Path) -> Path:
    """Write the package for plugin ``name`` of ``kind`` under ``directory``; returns the package directory.

    :raises ConfigError: a bad name or kind, or the package directory exists already (nothing is written then).
    """
    if not _NAME.match(name):
        raise ConfigError(f"invalid plugin name {name!r}: lowercase letters and digits, words joined by '-' (e.g. acme-queue)")
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}: {' or '.join(KINDS)}")
    names = Names(name.removeprefix("omnitron-"))
    target = directory / names.distribution
    if target.exists():
        raise ConfigError(f"{target} exists already: nothing was written")
    files = (preset_files if kind == "preset" else provider_files).FILES
    subs = names.substitutions()
    for rel, text in files.items():
        path = target / Template(rel).substitute(subs)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(subs))
    return target
