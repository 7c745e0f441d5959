"""How the planner scales: N apps, each using a database, a Redis and 10 custom services (12 services).

Run: ``python benchmarks/planner.py [--runs N] [--sizes 10,100,1000]``. Prints figures beside
the targets; asserts nothing.

For each size a project is written to a temporary directory: the ecosystem
declares ``db`` (postgres), ``cache`` (redis) and ``svc0``..``svc9`` (custom
services with ports and env templates); every app's ``config/default.json``
asks for ``database``, ``redis`` and the ten services. Figures:

- ``load``: reading and validating the ecosystem and every app config;
- ``plan``: planning the loaded project (every stage and the spec hashes), in process;
- ``infra plan --json``: the whole ``omnitron`` process at 1000 apps (interpreter start included).

Targets: planning 1000 apps in at most 0.3 s in process and ``infra plan --json`` in at most 0.6 s,
the time per app staying flat from 10 to 1000 apps (linear).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAN_TARGET_1000 = 0.3
CLI_TARGET_1000 = 0.6
CUSTOM = 10


def write_project(root: Path, apps: int) -> None:
    services: dict = {
        "db": {"preset": "postgres"},
        "cache": {"preset": "redis"},
    }
    for i in range(CUSTOM):
        services[f"svc{i}"] = {
            "ports": {"main": 7000 + i},
            "env": {f"SVC{i}_URL": f"http://user:${{secret:token}}@${{host}}:${{port:main}}/svc{i}"},
            "secrets": {"token": {"secret": f"scale/svc{i}-token"}},
            "docker": {"image": f"example/svc{i}:1", "env": {"TOKEN": "${secret:token}"}},
            "healthCheck": {"tcp": {"port": "main"}},
        }
    eco = {
        "project": "scale",
        "apps": [{"name": f"app{i}"} for i in range(apps)],
        "infrastructure": {"services": services},
        "stacks": {"dev": {"type": "local", "provider": "docker"}},
    }
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    uses = {"database": True, "redis": True, "services": {f"svc{i}": True for i in range(CUSTOM)}}
    for i in range(apps):
        cfg = root / "apps" / f"app{i}" / "config"
        cfg.mkdir(parents=True)
        (cfg / "default.json").write_text(json.dumps({"omnitron": uses}))


def in_process(root: Path, runs: int) -> tuple[float, float, float, int]:
    """Median seconds of loading and of planning (wall, and CPU of this process), and the number of planned services."""
    from omnitron.loader import load_project
    from omnitron.planner import PlanOptions, make_plan
    from omnitron.plugins import PluginManager

    plugins = PluginManager()
    available = {name: True for name in plugins.providers}
    options = PlanOptions(providers=plugins.provider_descriptors(available))
    loads, plans, cpus = [], [], []
    services = 0
    for _ in range(runs):
        start = time.perf_counter()
        loaded = load_project(root / "omnitron.config.py")
        loads.append(time.perf_counter() - start)
        start, cpu = time.perf_counter(), time.process_time()
        plan = make_plan(loaded, plugins, options)
        plans.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        services = len(plan.services)
    return statistics.median(loads), statistics.median(plans), statistics.median(cpus), services


def cli(root: Path, runs: int) -> float:
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    env = {**os.environ, "OMNITRON_PROJECT": str(root), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_DAEMON": "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([exe, "infra", "plan", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
        if i:  # the first run warms the bytecode cache
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (wall figures grow with it; CPU figures less)")
    print(f"{'apps':>6} {'services':>9} {'load':>9} {'plan':>9} {'plan cpu':>9} {'plan/app':>10}   (medians of {args.runs} runs, in process)")
    per_app: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="omnitron-planner-") as tmp:
        for n in sizes:
            root = Path(tmp) / f"n{n}"
            root.mkdir()
            write_project(root, n)
            load, plan, cpu, services = in_process(root, args.runs)
            per_app[n] = cpu / n
            target = f"   target <= {PLAN_TARGET_1000:.2f}s" if n == 1000 else ""
            print(f"{n:>6} {services:>9} {load:>8.3f}s {plan:>8.3f}s {cpu:>8.3f}s {cpu / n * 1000:>8.3f}ms{target}")
        if len(per_app) > 1:
            lo, hi = min(per_app), max(per_app)
            print(f"linearity: CPU per app at {hi} apps / at {lo} apps = {per_app[hi] / per_app[lo]:.2f} (target: not above 1)")
        if 1000 in sizes:
            print(f"omnitron infra plan --json, 1000 apps: median {cli(Path(tmp) / 'n1000', args.runs):.3f}s whole process (target <= {CLI_TARGET_1000:.1f}s)")


if __name__ == "__main__":
    main()
