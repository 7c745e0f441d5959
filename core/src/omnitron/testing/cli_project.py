"""End-to-end helpers for plugin tests: a project driven through the real ``omnitron`` CLI, and an import check.

:class:`CliProject` is what a user has: a directory with ``omnitron.config.py`` and apps, and the
``omnitron`` command run in a subprocess (``omnitron run`` execs, so it cannot run in-process).
:func:`imports_beyond_api` lists a plugin's imports of omnitron's internals.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any


class CliProject:
    """A project in a directory of its own under ``/tmp``, run through the ``omnitron`` CLI.

    The directory is mode 0755 (a native service runs as the unprivileged service user when the tests run
    as root, and must reach its config), the project name is ``prefix`` plus eight hex digits, and the
    project has its own secret key and user config directory. :meth:`cleanup` runs ``infra down --volumes``
    and deletes the directory.
    """

    def __init__(self, prefix: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"omnitron-{prefix}-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.name = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(self.root / ".user-config"), "OMNITRON_PROJECT": str(self.root)}
        self.env.pop("OMNITRON_PLUGINS", None)
        # commands such as `python main.py` find the interpreter running the tests, with its packages
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

    @property
    def executable(self) -> str:
        return str(Path(sys.executable).parent / "omnitron")

    def write_ecosystem(self, ecosystem: dict[str, Any]) -> None:
        """``omnitron.config.py`` declaring ``ecosystem`` (its ``project`` is this project's name unless given)."""
        eco = {"project": self.name, **ecosystem}
        (self.root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")

    def write_app(self, name: str, omnitron: dict[str, Any], files: dict[str, str] | None = None) -> Path:
        """``apps/<name>/config/default.json`` with ``omnitron`` as its ``omnitron`` key, and ``files`` beside it."""
        app = self.root / "apps" / name
        (app / "config").mkdir(parents=True, exist_ok=True)
        (app / "config" / "default.json").write_text(json.dumps({"omnitron": omnitron}))
        for rel, text in (files or {}).items():
            (app / rel).write_text(text)
        return app

    def __call__(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([self.executable, *args], capture_output=True, text=True, env=self.env, cwd=self.root, timeout=timeout)

    def ok(self, *args: str) -> str:
        """``omnitron ARGS``'s output; an assertion error with both streams when it fails."""
        result = self(*args)
        assert result.returncode == 0, f"omnitron {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def cleanup(self) -> None:
        """``infra down --volumes``, then the directory goes (a provider's own leftovers are its tests' to check)."""
        self("infra", "down", "--volumes")
        shutil.rmtree(self.root, ignore_errors=True)


def imports_beyond_api(package: Path) -> list[str]:
    """Imports of omnitron in the modules of ``package`` other than ``omnitron.api`` and ``from omnitron import hookimpl``."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "omnitron":
                names = sorted(alias.name for alias in node.names)
                if not (node.module == "omnitron.api" or (node.module == "omnitron" and names == ["hookimpl"])):
                    found.append(f"{path.name}: from {node.module} import {', '.join(names)}")
            elif isinstance(node, ast.Import):
                found += [f"{path.name}: import {a.name}" for a in node.names if a.name.split(".")[0] == "omnitron" and a.name != "omnitron.api"]
    return found
