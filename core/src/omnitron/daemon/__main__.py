"""``python -m omnitron.daemon --project ROOT [--foreground]``: what ``omnitron daemon start`` runs (and ``daemon run`` calls)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnitron.daemon")
    parser.add_argument("--project", required=True, type=Path, help="the project directory")
    parser.add_argument("--foreground", action="store_true", help="log to stderr too")
    args = parser.parse_args(argv)
    from .server import serve

    return serve(args.project.resolve(), foreground=args.foreground)


if __name__ == "__main__":
    import os

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: the daemon's lock goes with the process, at once
