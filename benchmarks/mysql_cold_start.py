"""Cold start of MySQL (MariaDB) with the process provider, and what a cached data-directory template would save.

Measures, several times each (median and best printed):

- ``mariadb-install-db`` of a new data directory (what every new service pays);
- ``cp -a`` of an initialised data directory (what a cached template would cost instead);
- ``omnitron infra up --provider process`` of one mysql service with one app, from no data, as a fresh
  process until the service is ready (server started, root password set, app database and user made);
- the same command again with everything up (a no-op).

Needs omnitron with omnitron-mysql and omnitron-provider-process installed, and MariaDB's binaries
(``apt-get install mariadb-server``). Run as root, the server runs as the unprivileged service account.

    python benchmarks/mysql_cold_start.py [--runs 5] [--dir /tmp]
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


def reachable_dir(prefix: str, parent: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o755)
    return path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def as_service_user(argv: list[str]) -> list[str]:
    user = os.environ.get("OMNITRON_SERVICE_USER", "omnitron")
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv] if os.geteuid() == 0 else argv


def install_db(target: Path) -> None:
    target.mkdir()
    if os.geteuid() == 0:
        shutil.chown(target, os.environ.get("OMNITRON_SERVICE_USER", "omnitron"))
    argv = ["mariadb-install-db", "--no-defaults", f"--datadir={target}", "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve"]
    subprocess.run(as_service_user(argv), check=True, capture_output=True)


def omnitron(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", *args, "--project", str(root)], capture_output=True, text=True, check=True)


def write_project(root: Path, port: int) -> None:
    (root / "apps" / "web" / "config").mkdir(parents=True)
    (root / "apps" / "web" / "config" / "default.json").write_text(json.dumps({"omnitron": {"database": {"dialect": "mysql"}}}))
    (root / "omnitron.toml").write_text(
        f'project = "bench{os.getpid()}"\n[[apps]]\nname = "web"\n'
        f'[infrastructure.services.db]\npreset = "mysql"\nconfig = {{port = {port}}}\n'
    )


def report(name: str, values: list[float]) -> None:
    print(f"{name:<48} median {statistics.median(values) * 1000:7.0f} ms   best {min(values) * 1000:7.0f} ms   ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    if shutil.which("mariadb-install-db") is None:
        sys.exit("mariadb-install-db not found: apt-get install mariadb-server")
    os.environ.setdefault("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    work = reachable_dir("omnitron-bench-mysql-", args.dir)
    os.environ.setdefault("OMNITRON_CONFIG_DIR", str(work / "config"))
    from omnitron.hostports import free_port

    results: dict[str, list[float]] = {"install-db": [], "cp -a": [], "infra up (cold)": [], "infra up (no-op)": []}
    try:
        template = work / "template"
        install_db(template)
        for i in range(args.runs):
            results["install-db"].append(timed(lambda: install_db(work / f"fresh{i}")))
            results["cp -a"].append(timed(lambda: subprocess.run(["cp", "-a", str(template), str(work / f"copy{i}")], check=True)))
            root = reachable_dir(f"project{i}-", str(work))
            write_project(root, free_port())
            try:
                results["infra up (cold)"].append(timed(lambda: omnitron(root, "infra", "up", "--provider", "process")))
                results["infra up (no-op)"].append(timed(lambda: omnitron(root, "infra", "up", "--provider", "process")))
            finally:
                omnitron(root, "infra", "down", "--volumes")
        size = sum(f.stat().st_size for f in template.rglob("*") if f.is_file())
        print(f"initialised data directory: {size / 1e6:.0f} MB")
        for name, values in results.items():
            report(name, values)
        saved = statistics.median(results["install-db"]) - statistics.median(results["cp -a"])
        print(f"a cached template would save about {saved * 1000:.0f} ms per new data directory")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
