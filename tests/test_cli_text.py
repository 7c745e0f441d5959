"""Plain-text output of the installed command as scripts read it."""

from __future__ import annotations

import subprocess
import sys


def test_version_is_not_wrapped_when_piped():
    env = {"COLUMNS": "20", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", "--version"], capture_output=True, text=True, env=env, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0] == "omnitron 0.1.0", out
    assert lines[1].startswith("plugins: ") and "postgres 0.1.0" in lines[1] and "redis 0.1.0" in lines[1], out
