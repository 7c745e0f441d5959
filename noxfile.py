"""Test sessions: each package alone with the core, then everything together.

Run all: ``nox``. One: ``nox -s core``. Each session gets its own virtualenv
(uv) holding only what it needs, so a plugin that silently depends on another
fails here.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

TEST_DEPS = ["pytest>=8", "pytest-timeout>=2", "hypothesis>=6", "anyio>=4.4"]
CORE = "./core"

PLUGINS = {
    "postgres": "plugins/omnitron-postgres",
    "redis": "plugins/omnitron-redis",
    "mysql": "plugins/omnitron-mysql",
    "secrets-env": "plugins/omnitron-secrets-env",
    "provider-docker": "plugins/provider-docker",
    "provider-process": "plugins/provider-process",
    "tor": "plugins/omnitron-tor",
}
# extra packages a plugin's tests use (never another omnitron package unless listed)
PLUGIN_TEST_EXTRAS: dict[str, list[str]] = {
    "postgres": ["./plugins/provider-process"],
    "redis": ["./plugins/provider-process"],
    "mysql": ["./plugins/provider-process", "./plugins/provider-docker"],
    "provider-docker": ["./plugins/omnitron-postgres", "./plugins/omnitron-redis"],
    "provider-process": ["./plugins/omnitron-postgres[embedded]", "./plugins/omnitron-redis[embedded]"],
    "tor": ["./plugins/provider-process", "./plugins/provider-docker", "stem>=1.8"],
}


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("pytest", *paths, *session.posargs)


@nox.session(python="3.11")
def core(session: nox.Session) -> None:
    """The core alone."""
    session.install(*TEST_DEPS, "-e", CORE)
    _pytest(session, "core/tests")


for _name, _path in PLUGINS.items():

    def _session(session: nox.Session, _name: str = _name, _path: str = _path) -> None:
        session.install(*TEST_DEPS, "-e", CORE, "-e", f"./{_path}", *PLUGIN_TEST_EXTRAS.get(_name, []))
        _pytest(session, f"{_path}/tests")

    _session.__doc__ = f"{_path} alone with the core."
    nox.session(name=_name, python="3.11")(_session)


@nox.session(python="3.11")
def e2e(session: nox.Session) -> None:
    """Every package together: cross-package and end-to-end tests (tests/)."""
    session.install(*TEST_DEPS, "-e", CORE, *(f"-e./{p}" for p in PLUGINS.values()), "-e", ".", "hatchling", "tomli-w")
    _pytest(session, "tests")
