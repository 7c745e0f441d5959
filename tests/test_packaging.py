"""Every package shares one version and depends on the core only."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECTS = [ROOT / "pyproject.toml", ROOT / "core" / "pyproject.toml", *sorted((ROOT / "plugins").glob("*/pyproject.toml"))]


def load(path):
    return tomllib.loads(path.read_text())["project"]


def test_one_shared_version():
    versions = {str(p.relative_to(ROOT)): load(p)["version"] for p in PYPROJECTS}
    assert len(set(versions.values())) == 1, versions


def test_plugins_depend_on_the_core_only():
    core_version = load(ROOT / "core" / "pyproject.toml")["version"]
    for path in PYPROJECTS[2:]:
        deps = [d for d in load(path)["dependencies"] if d.startswith("omnitron")]
        assert deps == [f"omnitron-core=={core_version}"], (path, deps)


def test_each_plugin_has_src_tests_readme_and_entry_point():
    for path in PYPROJECTS[2:]:
        pkg = path.parent
        assert (pkg / "README.md").is_file() and (pkg / "src").is_dir() and (pkg / "tests").is_dir(), pkg
        assert "omnitron" in tomllib.loads(path.read_text())["project"]["entry-points"], pkg
