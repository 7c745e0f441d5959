"""Cold ``omnitron infra up`` of Postgres + Redis against raw ``docker run`` of the same images, and a no-op up.

Run: ``python benchmarks/docker_up.py [--runs N]`` (needs a Docker engine and the
test images from ``.ci/build-images.sh``, or pass ``--postgres-image``/``--redis-image``).
Prints medians and the ratio; asserts nothing. Targets: cold up at most 1.2x
the raw time; a no-op up (all healthy) under 0.5 s wall including interpreter start.

Raw: both containers started at once with ``docker run -d`` (fresh volumes,
ports on 127.0.0.1), then polled until Postgres answers ``SELECT 1`` and Redis
``PING`` with the password. omnitron: one ``omnitron infra up`` process from a
state with no containers and no volumes, until it exits with both healthy.
Python's bytecode cache is allowed, as in any installed environment.
"""

from __future__ import annotations

import argparse
import os
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




def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


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
        # measure as installed: Python may cache bytecode (some shells set PYTHONDONTWRITEBYTECODE)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")

    def run(self, *args: str) -> float:
        start = time.perf_counter()
        subprocess.run([self.exe, *args], check=True, env=self.env, capture_output=True, text=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres-image", default="omnitron-test/postgres:15")
    parser.add_argument("--redis-image", default="omnitron-test/redis:7")
    args = parser.parse_args()
    raw: list[float] = []
    cold: list[float] = []
    noop: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp), args.postgres_image, args.redis_image)
        project.run("infra", "down", "--volumes")  # also warms the bytecode cache
        for _ in range(args.runs):
            raw.append(raw_run(args.postgres_image, args.redis_image))
            cold.append(project.run("infra", "up"))
            for _ in range(5):
                noop.append(project.run("infra", "up"))
            project.run("infra", "down", "--volumes")
    med = statistics.median
    print(f"raw docker run + poll (Postgres + Redis): median {med(raw):.2f}s  runs {', '.join(f'{t:.2f}' for t in raw)}")
    print(f"omnitron infra up, cold:                  median {med(cold):.2f}s  runs {', '.join(f'{t:.2f}' for t in cold)}")
    print(f"ratio cold up / raw:                      {med(cold) / med(raw):.2f}x  (target <= 1.2x)")
    print(f"omnitron infra up, no-op (all healthy):   median {med(noop):.3f}s  best {min(noop):.3f}s  (target < 0.5s, interpreter start included)")


if __name__ == "__main__":
    main()
