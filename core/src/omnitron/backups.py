"""Backups on disk: one directory per backup with a ``manifest.json`` and the files the presets returned.

A backup is written to a hidden staging directory and renamed into place
when complete, so a killed run leaves no half-written backup. Files are
private (0600, directory 0700): they hold the services' data. The manifest
records each file's size and sha256; :func:`verify` checks them before a
restore touches anything.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BackupError
from .presets import BackupFile

MANIFEST = "manifest.json"
FORMAT = 1
"""Version of the manifest's shape."""
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass
class ServiceBackup:
    """What the manifest says of one service: its preset, provider and files (``path`` relative to the backup)."""

    preset: str
    provider: str
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.files)


@dataclass
class Manifest:
    id: str
    created_at: str
    omnitron_version: str
    project: str
    stack: str
    services: dict[str, ServiceBackup] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Service -> why it is not in the backup."""

    @property
    def size(self) -> int:
        return sum(s.size for s in self.services.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "createdAt": self.created_at,
            "omnitronVersion": self.omnitron_version,
            "project": self.project,
            "stack": self.stack,
            "size": self.size,
            "services": {name: {"preset": s.preset, "provider": s.provider, "size": s.size, "files": s.files} for name, s in self.services.items()},
            "skipped": self.skipped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r} (this omnitron reads {FORMAT})")
        services = {name: ServiceBackup(s["preset"], s["provider"], list(s["files"])) for name, s in data["services"].items()}
        return cls(data["id"], data["createdAt"], data["omnitronVersion"], data["project"], data["stack"], services, dict(data.get("skipped") or {}))


def new_id(root: Path, stack: str, now: _dt.datetime | None = None) -> str:
    """``20250131T120000Z-dev``: sortable by time, the stack in the name; ``-2``, ``-3``... when taken."""
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{stack}"
    candidate, n = base, 1
    while (root / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def write_backup(root: Path, manifest: Manifest, files: dict[str, list[BackupFile]]) -> Path:
    """Write ``files`` (service -> its files) and the manifest under ``root/<manifest.id>``, all or nothing."""
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{manifest.id}.partial-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        for service, service_files in files.items():
            folder = staging / _safe_dir(service)
            folder.mkdir(mode=0o700, exist_ok=True)
            for f in service_files:
                if not _FILE_NAME.match(f.name):
                    raise BackupError(f"service {service}: its preset returned an unsafe backup file name {f.name!r}")
                target = folder / f.name
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(f.data)
                    out.flush()
                    os.fsync(out.fileno())
                manifest.services[service].files.append(
                    {"name": f.name, "path": f"{folder.name}/{f.name}", "size": len(f.data), "sha256": hashlib.sha256(f.data).hexdigest(), "kind": f.kind, "meta": dict(f.meta)}
                )
        (staging / MANIFEST).write_text(json.dumps(manifest.as_dict(), indent=2) + "\n")
        final = root / manifest.id
        os.rename(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


def _safe_dir(service: str) -> str:
    """A directory name for a service (``orders/postgres`` -> ``orders__postgres``)."""
    return service.replace("/", "__")


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    try:
        return Manifest.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise BackupError(f"{directory} is not a backup: it has no {MANIFEST}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{path}: not a valid backup manifest ({type(exc).__name__}: {exc})") from None


def verify(directory: Path, manifest: Manifest) -> list[str]:
    """Every problem with the backup's files: missing, another size, another sha256 than the manifest says."""
    problems: list[str] = []
    for service, backup in manifest.services.items():
        for f in backup.files:
            path = directory / f["path"]
            if directory.resolve() not in path.resolve().parents:
                problems.append(f"{service}: {f['path']} points outside the backup")
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(f"{service}: {f['path']}: {exc.strerror or exc}")
                continue
            if len(data) != int(f["size"]):
                problems.append(f"{service}: {f['path']}: {len(data)} bytes, the manifest says {f['size']}")
            elif hashlib.sha256(data).hexdigest() != f["sha256"]:
                problems.append(f"{service}: {f['path']}: sha256 differs from the manifest's")
    return problems


def load_files(directory: Path, backup: ServiceBackup) -> list[BackupFile]:
    return [BackupFile(f["name"], (directory / f["path"]).read_bytes(), f["kind"], dict(f.get("meta") or {})) for f in backup.files]


def list_backups(root: Path) -> list[tuple[Path, Manifest]]:
    """Every complete backup under ``root``, oldest first (unreadable ones are left out)."""
    if not root.is_dir():
        return []
    found: list[tuple[Path, Manifest]] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not (entry / MANIFEST).is_file():
            continue
        try:
            found.append((entry, read_manifest(entry)))
        except BackupError:
            continue
    return sorted(found, key=lambda pair: (pair[1].created_at, pair[1].id))


def find_backup(root: Path, wanted: str | None) -> Path:
    """The backup ``wanted`` (an id under ``root`` or a backup directory), or the newest under ``root``."""
    if wanted is None:
        backups = list_backups(root)
        if not backups:
            raise BackupError(f"no backup in {root}: make one with `omnitron backup create`")
        return backups[-1][0]
    for candidate in (root / wanted, Path(wanted)):
        if (candidate / MANIFEST).is_file():
            return candidate
    known = ", ".join(m.id for _, m in list_backups(root)[-5:]) or "(none)"
    raise BackupError(f"no backup {wanted!r} in {root}; latest: {known}")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
