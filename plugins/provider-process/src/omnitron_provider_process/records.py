"""What the process provider records of each service it started (in the state store's per-provider records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .supervise import Identity

LEGACY_TABLE = "processes"
"""Where omnitron 0.1 kept these records, before per-provider records (moved over on first use)."""


@dataclass
class ProcessRecord:
    """One started service: its process group, spec hash, where its files are, how to stop it."""

    service: str
    pid: int
    pgid: int
    spec_hash: str
    started_at: float
    data_dir: str | None = None
    log_path: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    """``exe``, ``starttime``, ``bin_dir``, ``user``, ``run_dir``, ``ports``, ``stop_signal``, ``exec_env``, ``stopped``,
    ``launch`` (the marker in the process's env that finds it again when ``pid`` was never recorded)..."""
    prepared: bool = True
    """Whether its start completed (the recipe's ``after_start``: the password set, the database made). A record
    is written ``False`` before the process is spawned and turns ``True`` only then; a command killed in between
    leaves ``False``, and the next ``ensure`` restarts the service instead of adopting it. (Records of older
    versions, which lack the field, were written once started, and read as ``True``.)"""

    @property
    def pending(self) -> bool:
        """Written before the spawn: no process was recorded (``pid`` 0)."""
        return self.pid == 0

    @property
    def identity(self) -> Identity:
        return Identity(pid=self.pid, pgid=self.pgid, exe=self.info.get("exe", ""), starttime=self.info.get("starttime"))


def from_legacy_row(row: dict[str, Any]) -> tuple[str, str, ProcessRecord]:
    """A row of the old ``processes`` table as ``(stack, service, record)``."""
    import json

    record = ProcessRecord(
        service=row["service"], pid=row["pid"], pgid=row["pgid"], spec_hash=row["spec_hash"], started_at=row["started_at"],
        data_dir=row.get("data_dir"), log_path=row.get("log_path"), info=json.loads(row.get("info_json") or "{}"),
    )
    return row["stack"], row["service"], record
