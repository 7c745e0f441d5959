"""What ``nginx -t`` says, as one line naming the operator's file and line. Pure."""

from __future__ import annotations

import re
from .layout import Layout

_PROBLEM = re.compile(r"\[(?:emerg|alert|crit|error)\]\s+(?:\d+#\d+:\s+)?(?P<message>.*?)(?:\s+in\s+(?P<file>/?\S+?):(?P<line>\d+))?\s*$")


def first_problem(output: str, layout: Layout) -> str:
    """``file:line: message`` of the first error ``nginx -t`` printed (paths as the operator knows them), else its last line."""
    for line in output.splitlines():
        match = _PROBLEM.search(line)
        if match is None:
            continue
        message = match.group("message").strip()
        if match.group("file"):
            return f"{layout.shown(match.group('file'))}:{match.group('line')}: {message}"
        return message
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "nginx -t failed without a message"
