"""Every package under plugins/ (and examples/) uses only omnitron's public surface.

A plugin imports ``omnitron.api`` (and ``from omnitron import hookimpl``);
its tests may also import ``omnitron.testing`` (and its ``contract`` suite)
and the tests-only ``omnitron_test_servers``. Anything else of ``omnitron.*``
is internal and may move.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.parent for pattern in ("plugins/*/pyproject.toml", "examples/*/pyproject.toml") for p in ROOT.glob(pattern))
PUBLIC = {"omnitron.api", "omnitron.define_ecosystem"}  # define_ecosystem: what a project's own omnitron.config.py uses
PUBLIC_IN_TESTS = PUBLIC | {"omnitron.testing", "omnitron.testing.contract"}


def omnitron_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, what)`` for every import of an ``omnitron`` module in ``path``, however it is written."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "omnitron"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "omnitron":
            if node.module == "omnitron":
                found += [(node.lineno, f"omnitron.{alias.name}") for alias in node.names if alias.name not in ("hookimpl",)]
            else:
                found.append((node.lineno, node.module))
    return found


def test_there_are_packages_to_check():
    assert {"omnitron-postgres", "omnitron-redis", "provider-docker", "provider-process"} <= {p.name for p in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_package_imports_only_the_public_api(package: Path):
    bad: list[str] = []
    for path in sorted(package.rglob("*.py")):
        allowed = PUBLIC_IN_TESTS if "tests" in path.relative_to(package).parts else PUBLIC
        bad += [f"{path.relative_to(ROOT)}:{line}: {module}" for line, module in omnitron_imports(path) if module not in allowed]
    assert bad == [], "internal omnitron modules imported (use omnitron.api; add a name to its _EXPORTS if one is missing):\n" + "\n".join(bad)


def test_the_checker_sees_every_spelling(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text("import omnitron.state\nfrom omnitron.engine import up\nfrom omnitron import hookimpl, plugins\nfrom omnitron.api import Preset\n")
    assert [m for _, m in omnitron_imports(probe)] == ["omnitron.state", "omnitron.engine", "omnitron.plugins", "omnitron.api"]
