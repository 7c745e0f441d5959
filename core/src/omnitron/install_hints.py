"""What to install for something a project names but no installed plugin provides.

The one module of the core that names plugin distributions: error messages
read it to end with ``pip install ...``. Nothing else in the core depends on
which plugins exist; a plugin missing from these tables still works, its
absence is just reported without a package name.
"""

from __future__ import annotations

PRESET_PACKAGES: dict[str, str] = {
    "postgres": "omnitron-postgres",
    "redis": "omnitron-redis",
    "minio": "omnitron-minio",
    "openresty": "omnitron-openresty",
    "tor": "omnitron-tor",
    "mysql": "omnitron-mysql",
    "mariadb": "omnitron-mysql",
}
"""Preset name -> distribution providing it."""

SHORTHAND_PRESETS: dict[str, str] = {"database": "postgres", "redis": "redis", "s3": "minio"}
"""App shorthand -> the preset that usually serves it (for the hint when none is installed)."""

APP_TEST_PROVIDER = "process"
"""The provider the pytest plugin for app tests brings a test stack up with unless told otherwise: no Docker needed."""

PROVIDER_PACKAGES: dict[str, str] = {
    "docker": "omnitron-provider-docker",
    "process": "omnitron-provider-process",
    "baremetal": "omnitron-provider-baremetal",
    "swarm": "omnitron-provider-swarm",
}
"""Provider name -> distribution providing it."""

SECTION_PROVIDERS: dict[str, str] = {"docker": "docker", "process": "process", "bare_metal": "baremetal"}
"""Part of a requirement -> the provider usually running from it (for the hint when none is installed)."""

BACKEND_PACKAGES: dict[str, str] = {"env": "omnitron-secrets-env"}
"""Secret backend name -> distribution providing it."""


def preset_hint(name: str) -> str | None:
    """``install omnitron-tor`` for a known preset, else ``None``."""
    package = PRESET_PACKAGES.get(name)
    return f"install {package}" if package else None


def provider_package(name: str) -> str | None:
    return PROVIDER_PACKAGES.get(name)


def section_provider(section: str) -> str | None:
    return SECTION_PROVIDERS.get(section)
