"""Least privilege: when omnitron runs as root, no process of any native service of any installed preset runs as
uid 0: the server and every one of its descendants (a PostgreSQL backend leads a process group of its own)."""

from __future__ import annotations

import os

import pytest

from every_preset import EveryPreset, record_pids, uid_of

pytestmark = pytest.mark.installed_plugins


@pytest.fixture
def every(tmp_path):
    p = EveryPreset(tmp_path, "process")
    yield p
    p.cleanup()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges happens only when omnitron runs as root")
def test_no_native_service_runs_as_root(every):
    every.up()
    records = every.records()
    assert sorted(records) == every.services
    as_root: list[str] = []
    looked = 0
    for name, rec in records.items():
        pids = record_pids(rec)
        assert pids, name
        for pid in pids:
            uid = uid_of(pid)
            if uid is None:
                continue  # it ended meanwhile
            looked += 1
            if uid == 0:
                as_root.append(f"{name}: pid {pid}")
    print(f"native processes running as root: {len(as_root)} of {looked} processes of {len(records)} services ({', '.join(every.services)})")
    assert looked > len(records)  # the servers' children too
    assert as_root == []
