"""The core's shape: it names no provider outside its install hints, and its modules and functions stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "omnitron"
PROVIDER_NAMES = re.compile(r'"docker"|"process"|"baremetal"')


def test_only_the_install_hints_name_providers():
    hits = sorted({str(p.relative_to(SRC)) for p in SRC.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".txt", ".toml"} and PROVIDER_NAMES.search(p.read_text())})
    assert hits == ["install_hints.py"]


def test_no_module_over_400_lines_and_no_function_over_60():
    long_modules, long_functions = [], []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        if len(text.splitlines()) > 400:
            long_modules.append(str(path.relative_to(SRC)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long_functions.append(f"{path.relative_to(SRC)}:{node.name}")
    assert (long_modules, long_functions) == ([], [])
