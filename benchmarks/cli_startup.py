"""How long the CLI takes to answer cheap commands, including interpreter start.

Run: python benchmarks/cli_startup.py [--runs N]
Prints the median and best wall time of each command over N runs, next to a
bare `python -c pass` for reference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    env = {**os.environ, "OMNITRON_PROJECT": str(ROOT / "examples" / "shop")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: bytecode cached after the first run
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "omnitron --help": [exe, "--help"],
        "omnitron infra --help": [exe, "infra", "--help"],
        "omnitron plugins list --json": [exe, "plugins", "list", "--json"],
        "omnitron infra plan --json": [exe, "infra", "plan", "--json"],
    }
    print(f"{'command':34} {'median':>9} {'best':>9}   ({args.runs} runs)")
    for name, cmd in cases.items():
        measure(cmd, 1, env)  # warm-up: bytecode cache
        median, best = measure(cmd, args.runs, env)
        print(f"{name:34} {median * 1000:8.0f}ms {best * 1000:8.0f}ms")


if __name__ == "__main__":
    main()
