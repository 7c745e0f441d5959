"""Cold ``omnitron infra up`` of Postgres + Redis against raw ``docker run`` of the same images, and a no-op up.

Run: ``python benchmarks/docker_up.py [--runs N]`` (needs a Docker engine and the
test images from ``.ci/build-images.sh``, or pass ``--postgres-image``/``--redis-image``).
Prints medians, ranges and the ratios with their targets beside them; asserts nothing.

Targets:

- cold up without the data template (``OMNITRON_DOCKER_TEMPLATE=off``): at most 1.1x raw;
- cold up with it (a later project of the same image): at most 0.6x raw;
- no-op up (all healthy), interpreter start included: under 0.5 s wall, with the
  project's daemon answering (its fast path) and without a daemon
  (``OMNITRON_DAEMON=off``).

Raw: both containers started at once with ``docker run -d`` (fresh volumes,
ports on 127.0.0.1), then polled every 10 ms until Postgres answers ``SELECT 1``
and Redis ``PING`` with the password. omnitron: one ``omnitron infra up``
process from a state with no containers and no volumes, until it exits with
both healthy (it exits only then). Each round runs raw, then each omnitron
variant, so drift of a shared machine's load hits them alike; the CPU time
(user + system) of the omnitron process is printed too, the figure that load
does not move. Python's bytecode cache is allowed, as in any installed environment.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from omnitron.hostports import free_port

PASSWORD = "bench-Pass_1"
TARGETS = {"cold, no template": 1.1, "cold, template": 0.6}
NOOP_TARGET_S = 0.5


def pg_ready(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=PASSWORD, dbname="postgres", connect_timeout=1) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_ready(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def raw_run(pg_image: str, redis_image: str) -> float:
    tag = uuid.uuid4().hex[:8]
    pg_port, redis_port = free_port(), free_port()
    names = [f"bench-pg-{tag}", f"bench-redis-{tag}"]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(["docker", "run", "-d", "--name", names[0], "-p", f"127.0.0.1:{pg_port}:5432", "-e", f"POSTGRES_PASSWORD={PASSWORD}", "-v", f"{names[0]}:/var/lib/postgresql/data", pg_image], stdout=subprocess.DEVNULL),
        subprocess.Popen(["docker", "run", "-d", "--name", names[1], "-p", f"127.0.0.1:{redis_port}:6379", "-v", f"{names[1]}:/data", redis_image, "redis-server", "--requirepass", PASSWORD], stdout=subprocess.DEVNULL),
    ]
    for p in procs:
        p.wait()
    pending = {"pg": lambda: pg_ready(pg_port), "redis": lambda: redis_ready(redis_port)}
    while pending:
        for key, check in list(pending.items()):
            if check():
                del pending[key]
        if pending:
            time.sleep(0.01)
    elapsed = time.perf_counter() - start
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True)
    subprocess.run(["docker", "volume", "rm", "-f", *names], capture_output=True)
    return elapsed


class Project:
    def __init__(self, root: Path, pg_image: str, redis_image: str) -> None:
        self.root = root
        name = f"bench{uuid.uuid4().hex[:8]}"
        offset = 30000 + int(uuid.uuid4().int % 200) * 10
        eco = {
            "project": name,
            "infrastructure": {"services": {"db": {"preset": "postgres", "config": {"image": pg_image}}, "cache": {"preset": "redis", "config": {"image": redis_image}}}},
            "stacks": {"dev": {"provider": "docker", "portOffsets": offset}},
        }
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        self.env = {**os.environ, "OMNITRON_PROJECT": str(root), "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".cfg")}
        for key in ("OMNITRON_DOCKER_TEMPLATE", "OMNITRON_DAEMON"):
            self.env.pop(key, None)
        # measure as installed: Python may cache bytecode (some shells set PYTHONDONTWRITEBYTECODE)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")

    def run(self, *args: str, **env: str) -> tuple[float, float]:
        """Wall seconds and CPU seconds (user + system of the command and what it waited for) of one command."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([self.exe, *args], check=True, env={**self.env, **env}, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def drop_templates(image: str) -> None:
    """Remove the cached data templates made from ``image`` (the next cold up builds one)."""
    image_id = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", image], capture_output=True, text=True).stdout.strip()
    if image_id:
        found = subprocess.run(["docker", "image", "ls", "-q", "--filter", f"label=omnitron.template.source={image_id}"], capture_output=True, text=True).stdout.split()
        if found:
            subprocess.run(["docker", "image", "rm", "-f", *found], capture_output=True)


def row(label: str, values: list[float], note: str = "") -> str:
    return f"{label:<44} median {statistics.median(values):6.3f}s  range {min(values):.3f}-{max(values):.3f}  {note}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres-image", default="omnitron-test/postgres:15")
    parser.add_argument("--redis-image", default="omnitron-test/redis:7")
    args = parser.parse_args()
    raw: list[float] = []
    cold: dict[str, list[tuple[float, float]]] = {"cold, no template": [], "cold, template": []}
    noop: dict[str, list[tuple[float, float]]] = {"no-op, daemon answering": [], "no-op, no daemon": []}
    print(f"load before: {uptime()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp), args.postgres_image, args.redis_image)
        project.run("infra", "down", "--volumes")  # also warms the bytecode cache
        project.run("infra", "up")  # builds the data template, if there is none yet
        project.run("infra", "down", "--volumes")
        try:
            for _ in range(args.runs):
                raw.append(raw_run(args.postgres_image, args.redis_image))
                cold["cold, no template"].append(project.run("infra", "up", OMNITRON_DOCKER_TEMPLATE="off"))
                project.run("infra", "down", "--volumes")
                cold["cold, template"].append(project.run("infra", "up"))
                project.run("daemon", "start")  # until it answers
                for _ in range(3):
                    noop["no-op, daemon answering"].append(project.run("infra", "up"))
                project.run("daemon", "stop")
                for _ in range(3):
                    noop["no-op, no daemon"].append(project.run("infra", "up", OMNITRON_DAEMON="off"))
                project.run("infra", "down", "--volumes")
        finally:
            project.run("infra", "down", "--volumes")
    print(f"load after:  {uptime()}\n")
    raw_med = statistics.median(raw)
    print(row("raw docker run + poll (Postgres + Redis)", raw))
    for label, runs in cold.items():
        walls = [w for w, _ in runs]
        ratio = statistics.median(walls) / raw_med
        paired = statistics.median(w / r for (w, _), r in zip(runs, raw))
        verdict = "met" if ratio <= TARGETS[label] else "NOT met"
        print(row(f"omnitron infra up, {label}", walls, f"{ratio:.2f}x raw (paired {paired:.2f}x; target <= {TARGETS[label]}x: {verdict}); cpu {statistics.median(c for _, c in runs):.2f}s"))
    for label, runs in noop.items():
        walls = [w for w, _ in runs]
        verdict = "met" if statistics.median(walls) < NOOP_TARGET_S else "NOT met"
        print(row(f"omnitron infra up, {label}", walls, f"target < {NOOP_TARGET_S}s: {verdict}; cpu {statistics.median(c for _, c in runs):.3f}s"))


if __name__ == "__main__":
    main()
