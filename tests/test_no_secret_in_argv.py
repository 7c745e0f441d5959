"""No generated secret is on a command line: not in any managed container's ``Cmd``/``Args``/``Entrypoint``
(``docker inspect``), and not in the ``/proc/<pid>/cmdline`` of any process of any managed service, on either
provider: the server and every one of its children (a PostgreSQL server's backends lead process groups of
their own, so they are found as its descendants), for a service of every installed preset. Container env holds
a secret only where an official image's contract reads it from there (``POSTGRES_PASSWORD``,
``MYSQL_ROOT_PASSWORD``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from every_preset import IMAGE_CONTRACT_ENV, EveryPreset, container_pids, installed_presets, record_pids
from shop_project import require_docker
from omnitron.testing import unavailable

pytestmark = pytest.mark.installed_plugins


@pytest.fixture(params=["process", "docker"])
def every(request, tmp_path):
    if request.param == "docker":
        require_docker()
    p = EveryPreset(tmp_path, request.param)
    yield p
    p.cleanup()


def _argv_of(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None  # it ended meanwhile


def _secrets_in(secrets: list[str], where: str, text: str) -> list[str]:
    return [f"{where} holds secret #{i}" for i, s in enumerate(secrets) if s in text]


def test_no_secret_on_any_command_line(every):
    assert {"postgres", "redis"} <= set(installed_presets())
    every.up()
    secrets = every.secrets()
    seen: list[str] = []
    pids: dict[str, list[int]] = {}  # service -> every process of it
    if every.provider == "docker":
        containers = every.containers()
        assert len(containers) == len(every.services), (len(containers), every.services)
        for data in containers:
            name = data["Name"].lstrip("/")
            argv = [*(data["Config"].get("Entrypoint") or []), *(data["Config"].get("Cmd") or []), data.get("Path", ""), *(data.get("Args") or [])]
            seen += _secrets_in(secrets, f"{name}: Cmd/Args", "\0".join(argv))
            for item in data["Config"].get("Env") or []:
                key, _, value = item.partition("=")
                if key not in IMAGE_CONTRACT_ENV:
                    seen += _secrets_in(secrets, f"{name}: env {key}", value)
            pids[name] = container_pids(data)
            if not pids[name]:
                unavailable(f"{name}: its processes are not visible from here (State.Pid {data['State'].get('Pid')}): a remote Docker engine")
    else:
        records = every.records()
        assert sorted(records) == every.services
        pids = {name: record_pids(rec) for name, rec in records.items()}
    looked = 0
    for name, members in pids.items():
        assert members, f"{name}: no process found"
        for pid in members:
            args = _argv_of(pid)
            if args is not None:
                looked += 1
                seen += _secrets_in(secrets, f"{name}: pid {pid} ({args.split(chr(0))[0]})", args)
    containers = f"{len(pids)} containers, " if every.provider == "docker" else ""
    print(
        f"secrets seen in argv ({every.provider}): {len(seen)} in {containers}{looked} process command lines "
        f"of {len(pids)} services, {len(secrets)} secrets; presets skipped: {every.skipped or 'none'}"
    )
    assert looked > len(pids)  # the servers' children too
    assert seen == []
