"""How long the CLI takes to answer, without a daemon (``OMNITRON_DAEMON=off``), the interpreter's start included; and its peak memory.

Run: ``python benchmarks/cli_startup.py [--runs N] [--services 12]``. Prints figures beside the
targets; asserts nothing. Needs the process provider and a PostgreSQL and a Redis on PATH (or
their pip wheels), as ``scripts/demo`` does.

A copy of ``examples/shop`` (Postgres + Redis, two apps) is brought up with the process
provider in a temporary directory, then each command runs ``--runs`` times (after one warm-up
run: Python's bytecode cache is allowed, as in any installed environment, and so is the CLI's
output cache of ``--help`` and ``plugins list``, which are timed without it too; the warm-up writes
the plan cache the no-op ``up``, ``status --json`` and ``run`` are then answered from) and the
median and best wall times are printed, with the median CPU time (user + system) beside what
those three cost before the plan cache. Then the same project with ``--services`` services in all
(Postgres, Redis and custom ``python -m http.server`` services) is brought up and the peak
resident memory of ``omnitron infra up`` is printed, cold and no-op: the largest process among
``omnitron`` and what it waited for (the servers it starts keep running and are not counted).
Everything is brought down (data deleted) at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    "omnitron --help": 0.100,
    "omnitron plugins list": 0.150,
    "omnitron infra up (no-op)": 0.25,
    "omnitron infra status --json": 0.20,
    "omnitron run orders -- true": 0.25,
}
"""Whole-process wall seconds, without a daemon."""
BEFORE_CPU = {
    "omnitron infra up (no-op)": 0.585,
    "omnitron infra status --json": 0.490,
    "omnitron run orders -- true": 0.504,
}
"""CPU seconds (user + system, median) of these commands before the plan cache answered them (every one planned)."""
MEMORY_TARGET_MB = 80


def write_project(root: Path, services: int) -> None:
    shutil.copytree(ROOT / "examples" / "shop" / "apps", root / "apps")
    offset = random.randrange(100, 300) * 100
    declared: dict = {
        "db": {"preset": "postgres", "config": {"extensions": ["pgcrypto"]}},
        "cache": {"preset": "redis", "config": {"maxmemory": "64mb"}},
    }
    for i in range(max(0, services - 2)):
        declared[f"web{i}"] = {
            "ports": {"main": 8100 + i},
            "process": {"command": [sys.executable, "-m", "http.server", "${port:main}", "--bind", "127.0.0.1"]},
            "healthCheck": {"tcp": {"port": "main"}},
        }
    eco = {
        "project": f"bench{random.randrange(10**6)}",
        "apps": [{"name": "orders", "command": ["python", "main.py"]}, {"name": "inventory", "command": ["python", "main.py"]}],
        "infrastructure": {"services": declared},
        "stacks": {"dev": {"type": "local", "provider": "process", "portOffsets": offset}},
    }
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")


class Cli:
    def __init__(self, root: Path) -> None:
        self.exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
        self.env = {**os.environ, "OMNITRON_PROJECT": str(root), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_DAEMON": "off"}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: bytecode cached after the first run

    def run(self, *args: str | dict[str, str]) -> tuple[float, float, float]:
        """Wall seconds, peak resident MiB (the largest process among it and those it waited for) and CPU seconds of
        one ``omnitron ARGS``; a dict in ARGS: more env."""
        env = {**self.env, **{k: v for a in args if isinstance(a, dict) for k, v in a.items()}}
        argv = [a for a in args if isinstance(a, str)]
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen([self.exe, *argv], env=env, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            if code != 0:
                err.seek(0)
                raise SystemExit(f"omnitron {' '.join(argv)} exited {code}: {err.read().decode(errors='replace').strip()[-800:]}")
        return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime

    def timed(self, args: list[str | dict[str, str]], runs: int) -> tuple[float, float, float]:
        """Median and best wall seconds, and median CPU seconds, after one warm-up run (which writes the plan cache)."""
        self.run(*args)
        measured = [self.run(*args) for _ in range(runs)]
        times = [m[0] for m in measured]
        return statistics.median(times), min(times), statistics.median(m[2] for m in measured)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--services", type=int, default=12, help="services in the memory figure's project")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (figures are wall time: a loaded machine inflates them)")
    with tempfile.TemporaryDirectory(prefix="omnitron-cli-bench-") as tmp:
        root = Path(tmp) / "shop"
        write_project(root, 2)
        cli = Cli(root)
        try:
            cli.run("infra", "up")  # in the try: an up that fails half-way is brought down too
            cases = {
                "python -c pass": None,
                "omnitron --help": ["--help"],
                "omnitron plugins list": ["plugins", "list"],
                "omnitron --help (no output cache)": ["--help", {"OMNITRON_CLI_CACHE": "off"}],
                "omnitron plugins list (no output cache)": ["plugins", "list", {"OMNITRON_CLI_CACHE": "off"}],
                "omnitron infra plan --json": ["infra", "plan", "--json"],
                "omnitron infra up (no-op)": ["infra", "up"],
                "omnitron infra status --json": ["infra", "status", "--json"],
                "omnitron run orders -- true": ["run", "orders", "--", "true"],
            }
            print(f"{'command':40} {'median':>9} {'best':>9} {'target':>9} {'cpu':>9} {'cpu before':>11}   ({args.runs} runs)")
            for name, argv in cases.items():
                if argv is None:
                    times = []
                    for _ in range(args.runs):
                        start = time.perf_counter()
                        subprocess.run([sys.executable, "-c", "pass"], check=True)
                        times.append(time.perf_counter() - start)
                    median, best, cpu = statistics.median(times), min(times), None
                else:
                    median, best, cpu = cli.timed(argv, args.runs)
                target = f"{TARGETS[name] * 1000:7.0f}ms" if name in TARGETS else ""
                spent = f"{cpu * 1000:7.0f}ms" if cpu is not None else ""
                before = f"{BEFORE_CPU[name] * 1000:7.0f}ms" if name in BEFORE_CPU else ""
                print(f"{name:40} {median * 1000:7.0f}ms {best * 1000:7.0f}ms {target:>9} {spent:>9} {before:>11}")
        finally:
            cli.run("infra", "down", "--volumes")
        memory(Path(tmp) / "many", args.services)


def memory(root: Path, services: int) -> None:
    write_project(root, services)
    cli = Cli(root)
    try:
        cold = cli.run("infra", "up")[1]
        noop = max(cli.run("infra", "up")[1] for _ in range(3))
    finally:
        cli.run("infra", "down", "--volumes")
    print(f"peak RSS of omnitron infra up, {services} services: cold {cold:.1f} MiB, no-op {noop:.1f} MiB (target <= {MEMORY_TARGET_MB} MB)")


if __name__ == "__main__":
    if not hasattr(os, "wait4"):
        raise SystemExit("needs os.wait4 (Linux, macOS)")
    main()
