"""Test sessions: each package alone with the core, then everything together.

Run all: ``nox``. One: ``nox -s core``. Each session gets its own virtualenv
(uv) holding only what it needs, so a plugin that silently depends on another
fails here.

The sessions are derived from the packages: every ``plugins/*/pyproject.toml``
(and ``examples/*/pyproject.toml``) with a ``tests/`` directory is a session,
so a new package is always tested. A package's extra test dependencies are
its optional-dependency group ``test``; those naming a package of this
repository (``omnitron-provider-process``, ``omnitron-test-servers``) are
installed from here.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
TEST_DEPS = ["pytest>=8", "pytest-timeout>=2", "hypothesis>=6", "anyio>=4.4", "jsonschema>=4.18"]
CORE = "./core[testing]"


def _project(directory: Path) -> dict:
    return tomllib.loads((directory / "pyproject.toml").read_text())["project"]


LOCAL: dict[str, Path] = {
    _project(d)["name"]: d.relative_to(ROOT)
    for pattern in ("core", "plugins/*", "support/*", "examples/*")
    for d in sorted(ROOT.glob(pattern))
    if (d / "pyproject.toml").is_file()
}
"""Distribution name -> directory of every package in this repository."""


def _local_or_remote(requirement: str) -> list[str]:
    """``-e ./path[extras]`` for a package of this repository, the requirement itself otherwise."""
    req = Requirement(requirement)
    if req.name in LOCAL:
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        return ["-e", f"./{LOCAL[req.name].as_posix()}{extras}"]
    return [requirement]


def _test_requirements(directory: Path) -> list[str]:
    return [arg for r in _project(ROOT / directory).get("optional-dependencies", {}).get("test", []) for arg in _local_or_remote(r)]


def _session_name(directory: Path) -> str:
    name = directory.name.removeprefix("omnitron-")
    return f"example-{name}" if directory.parent.name == "examples" else name


TESTED = [
    d.relative_to(ROOT)
    for pattern in ("plugins/*", "examples/*")
    for d in sorted(ROOT.glob(pattern))
    if (d / "pyproject.toml").is_file() and (d / "tests").is_dir()
]


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("pytest", *paths, *session.posargs)


@nox.session(python="3.11")
def core(session: nox.Session) -> None:
    """The core alone."""
    session.install(*TEST_DEPS, "-e", CORE)
    _pytest(session, "core/tests")


for _dir in TESTED:

    def _session(session: nox.Session, _dir: Path = _dir) -> None:
        session.install(*TEST_DEPS, "-e", CORE, "-e", f"./{_dir.as_posix()}", *_test_requirements(_dir))
        _pytest(session, f"{_dir.as_posix()}/tests")

    _session.__doc__ = f"{_dir.as_posix()} alone with the core (and its test group)."
    nox.session(name=_session_name(_dir), python="3.11")(_session)


@nox.session(python="3.11", reuse_venv=False)
def scaffold(session: nox.Session) -> None:
    """``omnitron plugins new`` writes a preset and a provider package whose own tests pass."""
    session.install(*TEST_DEPS, "-e", CORE)
    with tempfile.TemporaryDirectory(prefix="omnitron-scaffold-") as tmp:
        for name, kind in (("acme-queue", "preset"), ("acme-cloud", "provider")):
            session.run("omnitron", "plugins", "new", name, "--kind", kind, "--dir", tmp)
            package = Path(tmp) / f"omnitron-{name}"
            session.install("-e", str(package))
            session.run("pytest", str(package / "tests"), "-p", "no:cacheprovider", *session.posargs)


@nox.session(python="3.11")
def e2e(session: nox.Session) -> None:
    """Every package together: cross-package and end-to-end tests (tests/)."""
    packages = [f"-e./{path.as_posix()}[test]" if name != "omnitron-core" else f"-e./{path.as_posix()}[testing]" for name, path in LOCAL.items()]
    session.install(*TEST_DEPS, *packages, "-e", ".", "hatchling", "schemathesis>=4")
    _pytest(session, "tests")
