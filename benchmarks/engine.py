"""Figures for the provisioning engine: how fast the gate sees a service ready, and a no-op ``infra up``.

Run: ``python benchmarks/engine.py``. Prints numbers; asserts nothing.

1. Gate latency: a TCP server starts listening after a delay; the gate polls it
   with the built-in ``tcp`` probe. The lag is the time between the socket
   listening and the gate reporting it healthy.
2. No-op ``infra up``: a project whose one service is an ``external`` server
   already running: in-process (warm: plan + up) and as a fresh ``omnitron``
   process (cold: interpreter start, imports, plan, up).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def gate_latency(delay: float) -> float:
    import anyio

    from omnitron.engine.gate import HealthPolicy, checks_for, wait_healthy
    from omnitron.health import TcpProbe
    from omnitron.plan import PlannedService
    from omnitron.runtime import ServiceHandle

    with socket.socket() as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    svc = PlannedService(name="svc", provider="external", host="127.0.0.1", ports={"main": port}, target_ports={"main": port}, startup_timeout_ms=30_000)
    handle = ServiceHandle(service=svc, project="bench", stack="dev", host="127.0.0.1", ports={"main": port}, secret=lambda name: "", exec=None)  # type: ignore[arg-type]
    listening_at: list[float] = []
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen_later() -> None:
        time.sleep(delay)
        server.bind(("127.0.0.1", port))
        server.listen()
        listening_at.append(time.monotonic())

    thread = threading.Thread(target=listen_later)
    thread.start()
    result = anyio.run(lambda: wait_healthy(handle, checks_for(svc, {"tcp": TcpProbe()}), HealthPolicy.of(svc)))
    seen = time.monotonic()
    thread.join()
    server.close()
    assert result.result.ok
    return seen - listening_at[0]


def noop_up() -> tuple[list[float], list[float]]:
    import anyio

    from omnitron.engine.provision import up
    from omnitron.project import Project

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    port = server.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="omnitron-bench-"))
    eco = {
        "project": "bench",
        "apps": [{"name": "web"}],
        "infrastructure": {"services": {"api": {"ports": {"main": 1}, "env": {"API": "tcp://${host}:${port:main}"}, "docker": {"image": "x"}, "healthCheck": {"tcp": {"port": "main"}}}}},
        "stacks": {"dev": {"serviceOverrides": {"api": {"external": {"host": "127.0.0.1", "ports": {"main": port}}}}}},
    }
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    cfg = root / "apps" / "web" / "config"
    cfg.mkdir(parents=True)
    (cfg / "default.json").write_text('{"omnitron": {"services": {"api": true}}}')
    os.environ.setdefault("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    os.environ["OMNITRON_CONFIG_DIR"] = str(root / "user-config")

    held: list[socket.socket] = []

    def accept() -> None:
        # a real server keeps the connection open (the tcp probe counts an instant close as nothing listening)
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    warm: list[float] = []
    project = Project(root / "omnitron.config.py")
    for _ in range(10):
        start = time.perf_counter()
        anyio.run(lambda: up(project, project.plan()))
        warm.append(time.perf_counter() - start)
    cold: list[float] = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", "infra", "up", "--project", str(root)], check=True, capture_output=True, env={**os.environ, "OMNITRON_DAEMON": "off"})
        cold.append(time.perf_counter() - start)
    server.close()
    return warm, cold


def main() -> None:
    print("gate latency (tcp probe; lag between listening and seen healthy):")
    for delay in (0.05, 0.3, 1.0, 3.0):
        lags = [gate_latency(delay) for _ in range(5)]
        print(f"  service ready after {delay:>4}s: lag median {statistics.median(lags) * 1000:6.1f} ms, max {max(lags) * 1000:6.1f} ms")
    warm, cold = noop_up()
    print("no-op `infra up` (one external service, nothing to do):")
    print(f"  in-process (plan + up): median {statistics.median(warm) * 1000:6.1f} ms, min {min(warm) * 1000:6.1f} ms")
    print(f"  fresh `omnitron infra up` process: median {statistics.median(cold) * 1000:6.1f} ms, min {min(cold) * 1000:6.1f} ms (target <= 250 ms, no daemon)")


if __name__ == "__main__":
    main()
