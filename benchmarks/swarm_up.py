"""Cold ``omnitron infra up`` of Postgres + Redis on a cluster stack (Swarm) against ``docker stack deploy`` of the same.

Run: ``python benchmarks/swarm_up.py [--runs N]`` (needs a Docker engine, the test images from
``.ci/build-images.sh`` and omnitron with omnitron-provider-swarm, omnitron-postgres and
omnitron-redis installed). Prints medians and the ratio; asserts nothing.

The engine is put in swarm mode (``docker swarm init --advertise-addr 127.0.0.1``) only if it is not
already, and left again at the end in that case (``docker_gwbridge`` removed when unused), holding the
swarm tests' lock file meanwhile (``OMNITRON_SWARM_LOCK``; see ``plugins/provider-swarm/tests``), so it
never runs while they do.

``docker stack deploy``: a compose file with the same images, the password as a Docker secret
(``POSTGRES_PASSWORD_FILE``, a Redis config file), ports published on the node, DNS round robin (as
omnitron does on a kernel without IPVS), timed from the deploy until Postgres answers ``SELECT 1``
and Redis an authenticated ``PING``. omnitron: one ``omnitron infra up --stack cluster`` process on a
fresh project, until it exits with both healthy (it probes the same way before it returns).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from omnitron.hostports import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "provider-swarm" / "tests"))
from swarm_testlib import leave_swarm, swarm_lock  # noqa: E402  (the swarm tests' lock and clean leave)

PASSWORD = "bench-Swarm_Pass_1"
PG_IMAGE = "omnitron-test/postgres:15"
REDIS_IMAGE = "omnitron-test/redis:7"
OMNITRON = str(Path(sys.executable).parent / "omnitron")


def docker(*args: str, check: bool = True, input: str | None = None) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, input=input, timeout=300)
    if check and result.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def ready(pg_port: int, redis_port: int, password: str) -> bool:
    import psycopg
    import redis

    try:
        with psycopg.connect(host="127.0.0.1", port=pg_port, user="postgres", password=password, dbname="postgres", connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        client = redis.Redis(host="127.0.0.1", port=redis_port, password=password, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def stack_file(pg_port: int, redis_port: int, secret_pg: str, secret_redis: str) -> str:
    return f"""version: "3.8"
services:
  db:
    image: {PG_IMAGE}
    environment: {{POSTGRES_PASSWORD_FILE: /run/secrets/pg}}
    secrets: [{{source: {secret_pg}, target: /run/secrets/pg}}]
    volumes: [db-data:/var/lib/postgresql/data]
    ports: [{{target: 5432, published: {pg_port}, mode: host}}]
    deploy: {{endpoint_mode: dnsrr}}
  cache:
    image: {REDIS_IMAGE}
    command: [redis-server, /run/secrets/redis.conf]
    secrets: [{{source: {secret_redis}, target: /run/secrets/redis.conf}}]
    volumes: [cache-data:/data]
    ports: [{{target: 6379, published: {redis_port}, mode: host}}]
    deploy: {{endpoint_mode: dnsrr}}
volumes: {{db-data: {{}}, cache-data: {{}}}}
secrets:
  {secret_pg}: {{external: true}}
  {secret_redis}: {{external: true}}
"""


def wait_gone(label: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and docker("ps", "-aq", "--filter", f"label={label}").strip():
        time.sleep(0.3)


def stack_deploy_once(tmp: Path) -> float:
    name = f"bench{uuid.uuid4().hex[:6]}"
    pg_port, redis_port = free_port(), free_port()
    secret_pg, secret_redis = f"{name}-pg", f"{name}-redis"
    docker("secret", "create", secret_pg, "-", input=PASSWORD)
    docker("secret", "create", secret_redis, "-", input=f"requirepass {PASSWORD}\n")
    compose = tmp / f"{name}.yaml"
    compose.write_text(stack_file(pg_port, redis_port, secret_pg, secret_redis))
    try:
        start = time.perf_counter()
        docker("stack", "deploy", "-c", str(compose), name)
        while not ready(pg_port, redis_port, PASSWORD):
            time.sleep(0.05)
        return time.perf_counter() - start
    finally:
        docker("stack", "rm", name, check=False)
        wait_gone(f"com.docker.stack.namespace={name}")
        docker("secret", "rm", secret_pg, secret_redis, check=False)
        for volume in (f"{name}_db-data", f"{name}_cache-data"):
            docker("volume", "rm", volume, check=False)
        docker("network", "rm", f"{name}_default", check=False)


def omnitron_once(tmp: Path) -> float:
    name = f"bench{uuid.uuid4().hex[:6]}"
    root = tmp / name
    root.mkdir()
    pg_port, redis_port = free_port(), free_port()
    (root / "omnitron.toml").write_text(
        f'project = "{name}"\n'
        f'[infrastructure.services.db]\npreset = "postgres"\nconfig = {{image = "{PG_IMAGE}", port = {pg_port}}}\n'
        f'[infrastructure.services.cache]\npreset = "redis"\nconfig = {{image = "{REDIS_IMAGE}", port = {redis_port}}}\n'
        '[stacks.cluster]\ntype = "cluster"\nprovider = "swarm"\n'
    )
    env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".config")}
    try:
        start = time.perf_counter()
        subprocess.run([OMNITRON, "infra", "up", "--stack", "cluster"], cwd=root, env=env, check=True, capture_output=True, timeout=300)
        elapsed = time.perf_counter() - start
        return elapsed
    finally:
        subprocess.run([OMNITRON, "infra", "down", "--stack", "cluster", "--volumes"], cwd=root, env=env, capture_output=True, timeout=300)


def measure(runs: int) -> tuple[list[float], list[float]]:
    """Both, alternating (so a slower moment of a shared machine does not weigh on one side only)."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()
    created = state == "inactive"
    if created:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    raw: list[float] = []
    ours: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="omnitron-swarm-bench-") as tmp:
            for _ in range(runs):
                raw.append(stack_deploy_once(Path(tmp)))
                ours.append(omnitron_once(Path(tmp)))
    finally:
        if created:
            leave_swarm()
    return raw, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with swarm_lock(say=lambda line: print(line, file=sys.stderr, flush=True)):
        raw, ours = measure(args.runs)
    r, o = statistics.median(raw), statistics.median(ours)
    print(f"docker stack deploy until ready (median of {args.runs}): {r:.2f}s  runs: {', '.join(f'{x:.2f}' for x in raw)}")
    print(f"omnitron infra up --stack cluster (median of {args.runs}): {o:.2f}s  runs: {', '.join(f'{x:.2f}' for x in ours)}")
    print(f"ratio omnitron / stack deploy: {o / r:.2f}x")


if __name__ == "__main__":
    main()
