"""Least privilege: when omnitron runs as root, no native service of any installed preset runs as uid 0."""

from __future__ import annotations

import os

import pytest

from every_preset import EveryPreset, group_pids, uid_of

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
        pids = group_pids(rec["pgid"])
        assert pids, name
        for pid in pids:
            uid = uid_of(pid)
            if uid is None:
                continue
            looked += 1
            if uid == 0:
                as_root.append(f"{name}: pid {pid}")
    print(f"native processes running as root: {len(as_root)} of {looked} ({', '.join(every.services)})")
    assert as_root == []
