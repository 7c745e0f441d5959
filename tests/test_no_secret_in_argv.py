"""No generated secret is on a command line: not in any managed container's ``Cmd``/``Args``/``Entrypoint``
(``docker inspect``), not in any native service's ``/proc/<pid>/cmdline``, for a service of every installed
preset. Container env holds a secret only where an official image's contract reads it from there
(``POSTGRES_PASSWORD``, ``MYSQL_ROOT_PASSWORD``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from every_preset import IMAGE_CONTRACT_ENV, EveryPreset, group_pids, installed_presets
from omnitron.testing import unavailable

pytestmark = pytest.mark.installed_plugins


@pytest.fixture(params=["process", "docker"])
def every(request, tmp_path):
    if request.param == "docker" and os.system("docker info >/dev/null 2>&1") != 0:
        unavailable("no Docker engine")
    p = EveryPreset(tmp_path, request.param)
    yield p
    p.cleanup()


def test_no_secret_on_any_command_line(every):
    assert {"postgres", "redis"} <= set(installed_presets())
    every.up()
    secrets = every.secrets()
    seen: list[str] = []
    looked = 0
    if every.provider == "docker":
        containers = every.containers()
        assert len(containers) == len(every.services), (len(containers), every.services)
        for data in containers:
            argv = [*(data["Config"].get("Entrypoint") or []), *(data["Config"].get("Cmd") or []), data.get("Path", ""), *(data.get("Args") or [])]
            looked += 1
            seen += [f"{data['Name']}: argv" for s in secrets for a in argv if s in a]
            for item in data["Config"].get("Env") or []:
                key, _, value = item.partition("=")
                if any(s in value for s in secrets) and key not in IMAGE_CONTRACT_ENV:
                    seen.append(f"{data['Name']}: env {key}")
    else:
        records = every.records()
        assert sorted(records) == every.services
        for name, rec in records.items():
            for pid in group_pids(rec["pgid"]):
                try:
                    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                looked += 1
                seen += [f"{name}: pid {pid}" for s in secrets if s in args]
    print(f"secrets seen in argv ({every.provider}): {len(seen)} over {looked} command lines, {len(secrets)} secrets, presets skipped: {every.skipped or 'none'}")
    assert looked >= len(every.services)
    assert seen == []
