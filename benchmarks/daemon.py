"""The daemon's figures: a reconcile pass with nothing to do, drift-to-repaired latency, and the CLI with a daemon running.

Run: python benchmarks/daemon.py [--services 100] [--runs 10] [--skip-pass]

1. A reconcile pass over N healthy Docker services (``sleep`` in the local
   Debian test image) with nothing to do: the pass in this process, and the
   daemon's pass asked over its socket (``POST /reconcile``). Target: <= 0.5 s at N=100.
2. Drift-to-repaired latency: a container killed (``docker kill``) until the
   daemon (interval 1 s) records it healthy again.
3. Whole-process wall time (and CPU time, the command's plus the daemon's) of ``infra up`` (nothing to do), ``infra status --json``
   and ``omnitron run APP -- true`` with the daemon running, next to the same
   commands without it (``OMNITRON_DAEMON=off``) and ``python -c pass``.
   Target: <= 100 ms each with the daemon.

Needs a Docker engine and the local test images (``.ci/build-images.sh``).
Everything it creates carries a unique project name and is removed at the end.
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
import uuid
from pathlib import Path

BASE_IMAGE = "omnitron-test/debian:bookworm"
REDIS_IMAGE = "omnitron-test/redis:7"
SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]


def write_project(root: Path, name: str, services: dict, apps: dict | None = None) -> None:
    for app, cfg in (apps or {}).items():
        path = root / "apps" / app / "config" / "default.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"omnitron": cfg}))
    eco = {"project": name, "reconcileInterval": "1s", "apps": [{"name": a} for a in apps or {}], "infrastructure": {"services": services}, "stacks": {"dev": {"provider": "docker", "portOffsets": 23000}}}
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")


def omnitron(root: Path, env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    return subprocess.run([exe, *args], cwd=root, env=env, capture_output=True, text=True, check=check)


def wall(cmd: list[str], env: dict, cwd: Path, runs: int, daemon_pid: int | None = None) -> tuple[float, float, float]:
    """Median and best wall time of ``cmd``, and its median CPU time (user + system, the command's and the daemon's).

    The CPU time hardly depends on what else the machine runs: on a shared,
    busy machine it is the better estimate of the wall time an idle one gives.
    """
    times, cpu = [], []
    for _ in range(runs):
        before = _daemon_cpu(daemon_pid)
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed")
        cpu.append(usage.ru_utime + usage.ru_stime + _daemon_cpu(daemon_pid) - before)
    return statistics.median(times), min(times), statistics.median(cpu)


def _daemon_cpu(pid: int | None) -> float:
    """CPU seconds the daemon has used so far (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_socket(root: Path, timeout: float = 60) -> None:
    from omnitron.daemon import wire

    sock = root / ".omnitron" / "daemon.sock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if wire.request(sock, "GET", "/config").json().get("kept"):
                return
        except (wire.WireError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit("the daemon did not answer")


def bench_pass(n: int, runs: int, env: dict) -> None:
    import anyio

    from omnitron.daemon import wire
    from omnitron.daemon.keeper import StackKeeper
    from omnitron.daemon.reconcile import run_pass
    from omnitron.plugins import PluginManager
    from omnitron.state import StateStore

    root = Path(tempfile.mkdtemp(prefix="omnitron-bench-pass-"))
    name = f"bench{uuid.uuid4().hex[:6]}"
    write_project(root, name, {f"s{i:03d}": {"docker": {"image": BASE_IMAGE, "command": SLEEP}} for i in range(n)})
    try:
        started = time.perf_counter()
        omnitron(root, {**env, "OMNITRON_DAEMON": "off"}, "infra", "up")
        print(f"setup: {n} containers up in {time.perf_counter() - started:.1f}s")
        keeper = StackKeeper(root, "dev", PluginManager())
        with StateStore(root / ".omnitron") as state:
            keeper.refresh(state)
        times, actions = [], 0
        for _ in range(runs):
            t = time.perf_counter()
            result = anyio.run(run_pass, keeper)
            times.append(time.perf_counter() - t)
            actions += len(result.actions)
        print(f"reconcile pass, {n} healthy services, nothing to do (in process): median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms ({runs} passes, {actions} actions)")
        omnitron(root, env, "daemon", "start")
        wait_socket(root)
        sock = root / ".omnitron" / "daemon.sock"
        times = []
        for _ in range(runs):
            passes = wire.request(sock, "POST", "/reconcile", {"stack": "dev"}, timeout=60).json()["passes"]
            times.append(passes[0]["seconds"])
        print(f"reconcile pass, {n} healthy services, nothing to do (the daemon's, POST /reconcile): median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms")
    finally:
        omnitron(root, {**env, "OMNITRON_DAEMON": "off"}, "daemon", "stop", check=False)
        omnitron(root, {**env, "OMNITRON_DAEMON": "off"}, "infra", "down", "--volumes", check=False)
        shutil.rmtree(root, ignore_errors=True)


def bench_cli(runs: int, env: dict) -> None:
    root = Path(tempfile.mkdtemp(prefix="omnitron-bench-cli-"))
    name = f"bench{uuid.uuid4().hex[:6]}"
    services = {"cache": {"preset": "redis", "config": {"image": REDIS_IMAGE}}, "worker": {"docker": {"image": BASE_IMAGE, "command": SLEEP}}}
    write_project(root, name, services, apps={"web": {"redis": True}})
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    try:
        omnitron(root, env, "infra", "up")
        wait_socket(root)
        latencies = []
        for _ in range(3):
            from omnitron.state import StateStore

            with StateStore(root / ".omnitron") as state:
                after = state.events("dev")[-1].id if state.events("dev") else 0
            subprocess.run(["docker", "kill", f"omnitron-{name}-dev-worker"], check=True, capture_output=True)
            killed = time.perf_counter()
            while True:
                with StateStore(root / ".omnitron") as state:
                    if any(e.action == "ready" and e.service == "worker" for e in state.events("dev", after=after)):
                        break
                time.sleep(0.01)
            latencies.append(time.perf_counter() - killed)
        print(f"drift to repaired (docker kill -> healthy again, interval 1 s): median {statistics.median(latencies):.2f}s, best {min(latencies):.2f}s (3 runs)")
        time.sleep(1.5)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "omnitron infra up (nothing to do)": [exe, "infra", "up"],
            "omnitron infra status --json": [exe, "infra", "status", "--json"],
            "omnitron run web -- true": [exe, "run", "web", "--", "true"],
        }
        pid = int((root / ".omnitron" / "daemon.pid").read_text())
        print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"{'command':38} {'daemon: wall median / best, cpu':>34} {'no daemon: wall median / best, cpu':>37}   ({runs} runs)")
        for label, cmd in cases.items():
            wall(cmd, env, root, 1)
            on = wall(cmd, env, root, runs, pid if cmd[0] == exe else None)
            off = wall(cmd, {**env, "OMNITRON_DAEMON": "off"}, root, runs) if cmd[0] == exe else on
            print(f"{label:38} {on[0] * 1000:9.0f} /{on[1] * 1000:5.0f} ms, cpu {on[2] * 1000:4.0f} ms {off[0] * 1000:12.0f} /{off[1] * 1000:5.0f} ms, cpu {off[2] * 1000:4.0f} ms")
    finally:
        omnitron(root, env, "infra", "down", "--volumes", check=False)
        omnitron(root, env, "daemon", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-pass", action="store_true", help="only the CLI figures and the drift latency")
    args = parser.parse_args()
    env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_DAEMON": "on"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("OMNITRON_PROJECT", None)
    bench_cli(args.runs, env)
    if not args.skip_pass:
        bench_pass(args.services, args.runs, env)


if __name__ == "__main__":
    main()
