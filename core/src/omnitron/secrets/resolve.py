"""Resolution at injection: the project's secret backend and a store-key -> value resolver."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError
from ..install_hints import BACKEND_PACKAGES
from .base import SecretBackend, SecretContext


class Project(Protocol):
    """What resolution needs of a project (:class:`omnitron.project.Project` has it)."""

    name: str
    root: Path
    state_dir: Path
    config_file: Path
    loaded: Any
    """The loaded declarations: ``loaded.ecosystem.secrets.backend`` names the backend."""
    plugins: Any
    """The plugin manager: ``plugins.secret_backends`` maps names to backend classes."""


def backend_for(project: Project, loaded: Any = None) -> SecretBackend:
    """The backend named by the project's ``secrets.backend`` (``file`` by default).

    :param loaded: the project as loaded, when not ``project.loaded`` (e.g. :func:`~omnitron.loader.load_project_identity`).
    """
    loaded = loaded if loaded is not None else project.loaded
    name = loaded.ecosystem.secrets.backend
    installed: Mapping[str, type[SecretBackend]] = project.plugins.secret_backends
    cls = installed.get(name)
    if cls is None:
        hint = f" (install {BACKEND_PACKAGES[name]})" if name in BACKEND_PACKAGES else ""
        raise ConfigError(f"unknown secret backend {name!r}{hint}; installed: {', '.join(sorted(installed))}", file=project.config_file.name, path="secrets.backend")
    return cls(SecretContext(project=loaded.name, project_dir=project.root, state_dir=project.state_dir))


def resolver_for(project: Project) -> Callable[[str], str]:
    """Store key -> value, read from the backend when first asked.

    A key that is not set raises :class:`LookupError` naming the key and how to
    set it; the template renderer adds app, variable and template.
    """
    backend = backend_for(project)
    cache: dict[str, str] = {}

    def resolve(key: str) -> str:
        if key not in cache:
            value = backend.get(key)
            if value is None:
                raise LookupError(f"secret {key!r} is not set: {backend.missing_hint(key)}")
            cache[key] = value
        return cache[key]

    return resolve
