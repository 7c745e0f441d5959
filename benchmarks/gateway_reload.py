"""Config change to served: edit a file of the gateway's configDir, then time until a request through the gateway
sees the new behaviour.

Run: python benchmarks/gateway_reload.py [--runs N] [--providers process,docker] [--triggers up]

For each provider, a throwaway project with an openresty gateway (natively: openresty, or Debian's nginx with
its Lua module; in Docker: the local image omnitron-test/openresty:1.27, bash .ci/build-images.sh). Each run
rewrites ``location = /revision`` to answer a new number, starts the clock, lets a *trigger* apply it, and polls
``GET /revision`` (a new connection every millisecond) until the new number comes back. Triggers:

- ``up``: ``omnitron infra up`` (nginx -t where the gateway runs, then a reload), CLI start included; no daemon
  runs (``OMNITRON_DAEMON=off``);
- ``daemon``: nothing is run: the project's daemon (``omnitron daemon start`` before the edits, ``daemon stop``
  after), watching configDir, applies it; one edit right after the start is not measured (it may land before the
  daemon watches, and wait for its next pass); where this build has no ``omnitron daemon``, that line says so.

Prints, per provider and trigger: median, 95th percentile and best of edit-to-served, and how long the
trigger command itself took.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

SITE = """server {{
    include omnitron/server.conf;
    location = /revision {{ default_type text/plain; return 200 "{revision}\\n"; }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def project(provider: str) -> tuple[Path, dict[str, str], int]:
    root = Path(tempfile.mkdtemp(prefix="omnitron-bench-gw-", dir="/tmp"))
    os.chmod(root, 0o755)
    port = free_port()
    config = {"configDir": "./infra/nginx", "port": port, **({"image": "omnitron-test/openresty:1.27"} if provider == "docker" else {})}
    eco = {"project": f"benchgw{uuid.uuid4().hex[:6]}", "infrastructure": {"services": {"gateway": {"preset": "openresty", "config": config}}}, "stacks": {"dev": {"provider": provider}}}
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
    (root / "infra" / "nginx").mkdir(parents=True)
    (root / "infra" / "nginx" / "site.conf").write_text(SITE.format(revision=0))
    env = {**os.environ, "OMNITRON_DAEMON": "off", "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root)}
    return root, env, port


def omnitron(env: dict[str, str], *args: str, check: bool = True) -> bool:
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    return subprocess.run([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=check, env=env).returncode == 0


def revision(port: int) -> str | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/revision", headers={"Connection": "close"})
        return conn.getresponse().read().decode().strip()
    except OSError:
        return None
    finally:
        conn.close()


def trigger_up(env: dict[str, str]) -> None:
    omnitron(env, "infra", "up")


def trigger_daemon(env: dict[str, str]) -> None:
    return None  # the daemon's watcher applies the edit by itself


TRIGGERS: dict[str, Callable[[dict[str, str]], None]] = {"up": trigger_up, "daemon": trigger_daemon}


def measure(root: Path, env: dict[str, str], port: int, n: int, trigger: Callable[[dict[str, str]], None], timeout: float = 30.0) -> tuple[float, float]:
    """Edit-to-served and trigger seconds of one change to revision ``n``."""
    import threading

    (root / "infra" / "nginx" / "site.conf").write_text(SITE.format(revision=n))
    start = time.perf_counter()
    took: list[float] = []
    thread = threading.Thread(target=lambda: (trigger(env), took.append(time.perf_counter() - start)))
    thread.start()
    while revision(port) != str(n):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"revision {n} not served after {timeout:g}s")
        time.sleep(0.001)
    served = time.perf_counter() - start
    thread.join()
    return served, took[0] if took else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--providers", default="process,docker")
    parser.add_argument("--triggers", default="up", help="comma-separated: " + ", ".join(TRIGGERS))
    args = parser.parse_args()
    print(f"{'provider':9} {'trigger':8} {'median':>9} {'p95':>9} {'best':>9} {'trigger cmd':>12}   ({args.runs} edits)")
    revisions = itertools.count(1)
    for provider in args.providers.split(","):
        root, env, port = project(provider)
        try:
            omnitron(env, "infra", "up")
            for name in args.triggers.split(","):
                daemon = {**env, "OMNITRON_DAEMON": "on"}
                if name == "daemon" and not omnitron(daemon, "daemon", "start", check=False):
                    print(f"{provider:9} {name:8} (no `omnitron daemon` in this build)")
                    continue
                try:
                    if name == "daemon":  # not measured: the daemon's first pass and its watch are under way
                        measure(root, env, port, next(revisions), TRIGGERS[name], timeout=60.0)
                    served, took = [], []
                    for _ in range(args.runs):
                        s, t = measure(root, env, port, next(revisions), TRIGGERS[name])
                        served.append(s)
                        took.append(t)
                finally:
                    if name == "daemon":
                        omnitron(daemon, "daemon", "stop", check=False)
                p95 = sorted(served)[max(0, int(len(served) * 0.95) - 1)]
                print(f"{provider:9} {name:8} {statistics.median(served) * 1000:8.0f}ms {p95 * 1000:8.0f}ms {min(served) * 1000:8.0f}ms {statistics.median(took) * 1000:11.0f}ms")
        finally:
            subprocess.run([shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron"), "infra", "down", "--volumes"], capture_output=True, env=env)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
