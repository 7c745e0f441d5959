"""What a run reads, as both caches record it: environment variables and installed distributions."""

from __future__ import annotations

import os
import sys

from omnitron.run_inputs import EnvReads, distributions


def test_env_reads_records_each_way_of_reading_a_name(monkeypatch):
    monkeypatch.setenv("OMNITRON_T_SET", "1")
    environ = os.environ  # a reference taken before recording is seen too
    with EnvReads() as outer, EnvReads() as inner:
        environ.get("OMNITRON_T_GET")
        _ = "OMNITRON_T_IN" in os.environ
        os.getenv("OMNITRON_T_GETENV")
        os.environ["OMNITRON_T_SET"]
        os.environ.setdefault("OMNITRON_T_DEFAULT", "x")
        os.environ.pop("OMNITRON_T_DEFAULT")
        os.environb.get(b"OMNITRON_T_BYTES")
    os.environ.get("OMNITRON_T_AFTER")
    wanted = {"OMNITRON_T_GET", "OMNITRON_T_IN", "OMNITRON_T_GETENV", "OMNITRON_T_SET", "OMNITRON_T_DEFAULT"}
    assert outer.names == inner.names == wanted
    assert not outer.listed


def test_env_reads_notes_a_listing():
    with EnvReads() as reads:
        dict(os.environ)
    assert reads.listed
    with EnvReads() as reads:
        len(os.environ)
    assert reads.listed


def test_distributions_lists_metadata_entries(tmp_path):
    (tmp_path / "acme-1.0.dist-info").mkdir()
    (tmp_path / "old-2.0.egg-info").mkdir()
    (tmp_path / "acme").mkdir()
    assert [name for name, _ in distributions(str(tmp_path))] == ["acme-1.0.dist-info", "old-2.0.egg-info"]
    assert distributions(str(tmp_path / "missing")) is None
    assert any(distributions(p) for p in sys.path)
