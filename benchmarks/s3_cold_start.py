"""Cold start of the S3 storage service up to the first successful PUT: ``omnitron infra up`` against the same server started by hand.

Both sides start SeaweedFS (``weed mini``) from no data, the same binary
with the same options and the root identity in its environment, and make
bucket ``bench``; the clock stops at the first PUT that succeeds:

- omnitron: ``omnitron infra up --provider process`` as a fresh process (the
  ``minio`` preset with ``buckets: ["bench"]``: start, health gate, bucket,
  quota sweep), then one PUT with the root credentials;
- omnitron's engine in-process: the same ``up`` the command runs, called from
  this process with the project already planned (no interpreter start, no
  CLI, no planning), then one PUT: what the preset and the provider add to
  the server's own start;
- by hand: ``weed mini`` started directly, then CreateBucket + PUT retried
  every 2 ms until they succeed.

Before the first round the installed packages get their bytecode, as ``pip
install`` does (an environment made by ``uv pip install`` has none, and with
``PYTHONDONTWRITEBYTECODE=1`` every command would compile its imports again:
seconds no installed tool pays). Rounds interleave the sides (so they share
whatever else loads the machine), the data is deleted between rounds (not
timed). Prints each side's median and best, and the ratios of the medians to
the by-hand one (target: at most 1.2x). Needs ``omnitron-minio[embedded]`` and
``omnitron-provider-process``.

    python benchmarks/s3_cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omnitron.api import free_port


def s3(port: int, user: str, password: str):
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}, connect_timeout=1, read_timeout=5)
    return boto3.session.Session().client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id=user, aws_secret_access_key=password, config=config)


def first_put(client, *, create: bool, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if create:
                client.create_bucket(Bucket="bench")
                create = False
            client.put_object(Bucket="bench", Key="first", Body=b"x")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.002)


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.console = free_port(), free_port()
        self.project = root / "project"
        self.project.mkdir()
        (self.project / "omnitron.toml").write_text(
            f'project = "s3bench"\n\n[infrastructure.services.storage]\npreset = "minio"\n'
            f'config = {{ port = {self.port}, consolePort = {self.console}, buckets = ["bench"] }}\n'
        )
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / "config"), "OMNITRON_PROJECT": str(self.project)}
        self.omnitron = str(Path(sys.executable).with_name("omnitron"))
        from omnitron_minio.process_seaweedfs import SeaweedRecipe

        (directory,) = SeaweedRecipe().locate_extra()[:1] or [Path(shutil.which("weed") or "weed").parent]
        self.weed = directory / "weed"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.omnitron, *args], env=self.env, capture_output=True, text=True, check=True)

    def root_credentials(self) -> tuple[str, str]:
        user = self.cli("secret", "get", "s3bench/dev/storage/root_user").stdout.strip()
        password = self.cli("secret", "get", "s3bench/dev/storage/root_password").stdout.strip()
        return user, password

    def timed_up(self, bring_up) -> float:
        """Seconds of ``bring_up()`` plus the first PUT after it (reading the credentials is not timed); then the data goes."""
        start = time.perf_counter()
        bring_up()
        elapsed = time.perf_counter() - start
        client = s3(self.port, *self.root_credentials())
        put = time.perf_counter()
        first_put(client, create=False)
        elapsed += time.perf_counter() - put
        self.cli("infra", "down", "--volumes")
        return elapsed

    def omnitron_once(self) -> float:
        return self.timed_up(lambda: self.cli("infra", "up", "--provider", "process"))

    def engine_once(self) -> float:
        import anyio

        from omnitron.engine import up
        from omnitron.project import Project

        os.environ.update({k: self.env[k] for k in ("OMNITRON_SECRET_KEY", "OMNITRON_CONFIG_DIR")})
        project = Project.discover(self.project)
        plan = project.plan(provider="process")
        return self.timed_up(lambda: anyio.run(lambda: up(project, plan)))

    def hand_once(self) -> float:
        """``weed mini`` with the options the preset's recipe gives it, from an empty directory."""
        from omnitron_minio.process_seaweedfs import pick_ports

        data = self.root / "hand"
        data.mkdir()
        (data / "master").mkdir()
        p = pick_ports({}, {self.port, self.console})
        user, password = secrets.token_hex(10), secrets.token_urlsafe(30)
        client = s3(self.port, user, password)
        argv = [
            str(self.weed), "mini", f"-dir={data}", f"-master.dir={data / 'master'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            f"-s3.port={self.port}", f"-s3.port.grpc={p['s3_grpc']}", f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin'] + 10000}", "-admin.ui=false",
            "-s3.iam.readOnly=false", "-s3.autoCreateBucket=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
        ]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(data), "AWS_ACCESS_KEY_ID": user, "AWS_SECRET_ACCESS_KEY": password}
        start = time.perf_counter()
        with open(self.root / "hand.log", "ab") as log:
            proc = subprocess.Popen(argv, env=env, cwd=data, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            first_put(client, create=True)
            return time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(30)
            shutil.rmtree(data, ignore_errors=True)


def compile_bytecode() -> None:
    """Bytecode for every module the command imports (site-packages and the editable sources), as ``pip install`` writes it."""
    import compileall
    import sysconfig

    import omnitron
    import omnitron_minio
    import omnitron_provider_process

    roots = {sysconfig.get_paths()["purelib"], *(str(Path(m.__file__).parent) for m in (omnitron, omnitron_minio, omnitron_provider_process))}
    for root in sorted(roots):
        compileall.compile_dir(root, quiet=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="omnitron-s3-bench-"))
    bench = None
    try:
        compile_bytecode()
        bench = Bench(root)
        print(f"SeaweedFS: {bench.weed}")
        scenarios = {
            "omnitron infra up + first PUT": bench.omnitron_once,
            "engine up() in-process + first PUT": bench.engine_once,
            "weed mini by hand + first PUT": bench.hand_once,
        }
        times: dict[str, list[float]] = {label: [] for label in scenarios}
        for _ in range(args.runs):
            for label, once in scenarios.items():
                os.sync()
                times[label].append(once())
        for label, values in times.items():
            print(f"  {label:<36} median {statistics.median(values):.3f}s  best {min(values):.3f}s")
        hand = statistics.median(times["weed mini by hand + first PUT"])
        for label in ("omnitron infra up + first PUT", "engine up() in-process + first PUT"):
            ratio = statistics.median(times[label]) / hand
            print(f"ratio {label.split(' + ')[0]} / by hand: {ratio:.2f}x (target <= 1.2x): {'ok' if ratio <= 1.2 else 'OVER TARGET'}")
    finally:
        if bench is not None:
            subprocess.run([bench.omnitron, "infra", "down", "--volumes"], env=bench.env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
