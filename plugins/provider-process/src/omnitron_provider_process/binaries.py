"""Finding a recipe's executables.

Candidates, in order: the directory ``PATH`` finds the first binary in (its
symlinks resolved, so ``/usr/local/bin/postgres`` counts as
``/usr/lib/postgresql/15/bin``), the recipe's search globs (newest version
first), then the directories a wheel ships (the ``[embedded]`` extras). A
candidate must hold every binary the recipe needs. The first one whose
version matches wins: the version an existing data directory was initialised
with, else the service's ``version``; with neither, the first candidate. A
``version`` that no candidate has is an error naming what was found (never
another version run in its place).

``OMNITRON_PROCESS_BINARIES=system`` looks only on PATH and in the system
locations, ``=embedded`` only in the wheels; unset or ``auto``, both.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from omnitron.api import ProcessRecipe, ProvisionError

SOURCES_ENV = "OMNITRON_PROCESS_BINARIES"
MODES = ("auto", "system", "embedded")

_versions: dict[str, str | None] = {}


@dataclass(frozen=True)
class Located:
    """Where a recipe's binaries were found."""

    directory: Path
    binaries: dict[str, Path]
    source: str
    """``PATH``, ``system`` or ``embedded``."""


def source_mode() -> str:
    mode = os.environ.get(SOURCES_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ProvisionError(f"{SOURCES_ENV}={mode}: expected one of {', '.join(MODES)}")
    return mode


def _natural_key(path: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def candidates(recipe: ProcessRecipe, mode: str) -> Iterator[tuple[Path, str]]:
    """Directories that may hold the recipe's binaries, in preference order, with their source (lazily: wheels are looked up last)."""
    seen: set[Path] = set()

    def fresh(directory: Path) -> bool:
        try:
            key = directory.resolve()
        except OSError:
            return False
        if key in seen or not key.is_dir():
            return False
        seen.add(key)
        return True

    if not recipe.binaries:
        return
    first = recipe.binaries[0]
    if mode in ("auto", "system"):
        on_path = first if os.path.isabs(first) else shutil.which(first)
        if on_path:
            directory = Path(on_path).resolve().parent if recipe.resolve_links else Path(os.path.abspath(on_path)).parent
            if fresh(directory):
                yield directory, "PATH"
        for pattern in recipe.search_paths:
            for match in sorted(glob.glob(pattern), key=_natural_key, reverse=True):
                if fresh(Path(match)):
                    yield Path(match).resolve(), "system"
    if mode in ("auto", "embedded"):
        for directory in recipe.locate_extra():
            if fresh(directory):
                yield directory.resolve(), "embedded"


def _complete(recipe: ProcessRecipe, directory: Path) -> dict[str, Path] | None:
    out: dict[str, Path] = {}
    for name in recipe.binaries:
        path = directory / Path(name).name
        if not (path.is_file() and os.access(path, os.X_OK)):
            return None
        out[Path(name).name] = path
    return out


def binary_version(recipe: ProcessRecipe, binary: Path) -> str | None:
    """``recipe.version(binary)``, remembered per recipe and file (real path, size, modification time): in this
    process, and in the cache directory (:data:`VERSIONS_FILE`) for later commands, since ``binary --version``
    costs a process start (some 15-40 ms, the event loop waiting) on every cold ``up``."""
    try:
        real = binary.resolve()
        info = real.stat()
    except OSError:
        return None
    key = f"{type(recipe).__name__}:{real}:{info.st_size}:{info.st_mtime_ns}"
    if key not in _versions:
        stored = _stored_versions()
        if key in stored:
            _versions[key] = stored[key]
        else:
            _versions[key] = found = recipe.version(binary)
            if found is not None:
                _store_version(key, found)
    return _versions[key]


VERSIONS_FILE = "binary-versions.json"
"""In the cache directory: ``{"<recipe>:<real path>:<size>:<mtime_ns>": "<version>"}``."""


def _versions_path() -> Path | None:
    from .paths import cache_root

    root = cache_root()
    return root / VERSIONS_FILE if root is not None else None


def _stored_versions() -> dict[str, str]:
    path = _versions_path()
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}


def _store_version(key: str, version: str) -> None:
    """Add one entry (written to a temporary name, then renamed: a reader never sees half a file; a lost race loses one entry)."""
    path = _versions_path()
    if path is None:
        return
    stored = _stored_versions()
    stored[key] = version
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(stored, indent=1, sort_keys=True))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def version_matches(found: str | None, wanted: str) -> bool:
    """``15.18`` matches ``15`` and ``15.18``; ``150`` does not match ``15`` (release numbers compared, ``-alpine`` ignored)."""
    from packaging.version import InvalidVersion, Version

    if found is None:
        return False
    try:
        have, want = Version(found).release, Version(wanted.split("-", 1)[0]).release
    except InvalidVersion:
        return False
    return have[: len(want)] == want


def describe_search(recipe: ProcessRecipe, mode: str) -> str:
    places: list[str] = []
    if mode in ("auto", "system"):
        places.append("on PATH")
        if recipe.search_paths:
            places.append("in " + ", ".join(recipe.search_paths))
    if mode in ("auto", "embedded"):
        package = recipe.embedded_package or "an [embedded] wheel"
        installed = bool(recipe.locate_extra())
        places.append(f"in the {package} wheel ({'installed' if installed else 'not installed'})")
    where = ", ".join(places)
    if mode != "auto":
        where += f" ({SOURCES_ENV}={mode})"
    return where


def locate(recipe: ProcessRecipe, service: str, *, version: str | None = None, data_version: str | None = None, log=lambda msg: None) -> Located:
    """Find the recipe's binaries for ``service`` (see the module docstring for the order).

    :param version: the service's declared version, preferred when several are found.
    :param data_version: the version an existing data directory needs; required.
    """
    mode = source_mode()
    names = ", ".join(Path(b).name for b in recipe.binaries)
    found = ((d, s, b) for d, s in candidates(recipe, mode) if (b := _complete(recipe, d)) is not None)
    wanted = data_version or version
    if not wanted:
        first = next(found, None)
        if first is None:
            raise ProvisionError(f"service {service}: no {names} found: looked {describe_search(recipe, mode)}; {recipe.install_hint or 'install them'}")
        directory, source, binaries = first
        return Located(directory, binaries, source)
    usable = list(found)
    if not usable:
        raise ProvisionError(f"service {service}: no {names} found: looked {describe_search(recipe, mode)}; {recipe.install_hint or 'install them'}")
    main = Path(recipe.binaries[0]).name
    for directory, source, binaries in usable:
        if version_matches(binary_version(recipe, binaries[main]), wanted):
            return Located(directory, binaries, source)
    if data_version:
        have = ", ".join(f"{binary_version(recipe, b[main]) or '?'} in {d}" for d, _, b in usable)
        raise ProvisionError(
            f"service {service}: its data directory was initialised by version {data_version}, but only {have} found: "
            f"install version {data_version} ({recipe.install_hint or 'see the preset docs'}) or delete the data with `omnitron infra down --volumes`"
        )
    # never a silent wrong answer: another version than the one asked for would run
    have = ", ".join(f"{binary_version(recipe, b[main]) or 'unknown version'} ({d}, {s})" for d, s, b in usable)
    raise ProvisionError(
        f"service {service}: version {version} was asked for, but only {have} found: {recipe.version_hint(str(version))}, "
        "or run it with the docker provider (--provider docker)"
    )
