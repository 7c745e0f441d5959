"""The plugin uses omnitron's public API only: ``omnitron.api`` and ``from omnitron import hookimpl``."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "omnitron_openresty"


def test_only_the_public_api_is_imported():
    found: list[str] = []
    for path in sorted(SRC.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "omnitron":
                names = sorted(alias.name for alias in node.names)
                if not (node.module == "omnitron.api" or (node.module == "omnitron" and names == ["hookimpl"])):
                    found.append(f"{path.name}: from {node.module} import {', '.join(names)}")
            elif isinstance(node, ast.Import):
                found += [f"{path.name}: import {a.name}" for a in node.names if a.name.split(".")[0] == "omnitron" and a.name != "omnitron.api"]
    assert found == []
