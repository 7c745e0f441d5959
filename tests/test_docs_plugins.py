"""docs/plugins.md: every example marked ``# runnable`` runs, and the memcached example is the one in examples/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "plugins.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)
RUNNABLE = [b for b in BLOCKS if b.startswith("# runnable\n")]


def test_every_hook_has_a_runnable_section():
    from omnitron import hookspecs

    hooks = sorted(n for n in dir(hookspecs) if n.startswith("omnitron_"))
    for hook in hooks:
        section = DOC.split(f"### {hook}\n", 1)
        assert len(section) == 2, f"docs/plugins.md needs a section for {hook}"
        assert section[1].split("\n### ", 1)[0].count("# runnable\n") == 1, f"the {hook} section needs a runnable example"


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: re.search(r"class (\w+)", b).group(1) if re.search(r"class (\w+)", b) else "block")
def test_runnable_example_runs(block: str, monkeypatch: pytest.MonkeyPatch):
    import sys
    import types

    module = types.ModuleType("docs_example")
    monkeypatch.setitem(sys.modules, "docs_example", module)
    exec(compile(block, "docs/plugins.md", "exec"), module.__dict__)


def test_the_memcached_example_is_the_one_in_examples():
    source = (ROOT / "examples" / "omnitron-memcached" / "src" / "omnitron_memcached" / "__init__.py").read_text()
    code = source.split('"""', 2)[2].strip()
    assert any(code == b.strip() for b in BLOCKS)
    lines = len(source.splitlines()) + len((ROOT / "examples" / "omnitron-memcached" / "tests" / "test_memcached.py").read_text().splitlines())
    assert lines <= 40, f"the example preset and its test take {lines} lines"
