"""How long a hidden service takes to get its .onion address, natively and in Docker (offline tor).

Run: python benchmarks/tor_hidden_service.py [--runs N] [--providers process,docker]
For each provider, in a throwaway copy of examples/onion (its tor offline through
the test-only switch): `omnitron infra up` from nothing (new keys), a no-op `up`,
`up` after `down` (keys kept), and `omnitron infra tor --json`. Prints the median
and best wall time of each, CLI start included. Docker needs the local image
omnitron-test/tor:0.4 (bash .ci/build-images.sh).
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "onion"


def project(provider: str) -> tuple[Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="omnitron-bench-tor-", dir="/tmp"))
    os.chmod(root, 0o755)
    shutil.copytree(EXAMPLE / "apps", root / "apps")
    eco = dict(runpy.run_path(str(EXAMPLE / "omnitron.config.py"))["ecosystem"])
    eco["project"] = f"benchtor{uuid.uuid4().hex[:6]}"
    config = eco["infrastructure"]["services"]["tor"]["config"]
    config["testing"] = {"disableNetwork": True}
    if provider == "docker":
        config["image"] = "omnitron-test/tor:0.4"
    eco["stacks"] = {"dev": {"provider": provider}}
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
    env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root)}
    return root, env


def timed(env: dict[str, str], *args: str) -> float:
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    start = time.perf_counter()
    subprocess.run([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--providers", default="process,docker")
    args = parser.parse_args()
    print(f"{'provider':9} {'case':34} {'median':>9} {'best':>9}   ({args.runs} runs)")
    for provider in args.providers.split(","):
        root, env = project(provider)
        cases: dict[str, list[float]] = {"up, new keys": [], "up, nothing to do": [], "up after down, keys kept": [], "infra tor --json": []}
        try:
            for _ in range(args.runs):
                cases["up, new keys"].append(timed(env, "infra", "up"))
                cases["up, nothing to do"].append(timed(env, "infra", "up"))
                cases["infra tor --json"].append(timed(env, "infra", "tor", "--json"))
                timed(env, "infra", "down")
                cases["up after down, keys kept"].append(timed(env, "infra", "up"))
                timed(env, "infra", "down", "--volumes")
        finally:
            subprocess.run([shutil.which("omnitron") or "omnitron", "infra", "down", "--volumes"], capture_output=True, env=env)
            shutil.rmtree(root, ignore_errors=True)
        for name, times in cases.items():
            print(f"{provider:9} {name:34} {statistics.median(times) * 1000:8.0f}ms {min(times) * 1000:8.0f}ms")


if __name__ == "__main__":
    main()
