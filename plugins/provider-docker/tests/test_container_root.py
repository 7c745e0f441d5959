"""Paths in a container's root resolved from this side: symlinks stay inside the root."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from omnitron_provider_docker.container_root import resolve_in, root_of


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A container-like tree: ``/var/run -> /run`` (absolute, as in Debian images), ``/run/postgresql``; and this
    side's own ``run/postgresql`` next to it, which no resolution may reach."""
    tree = tmp_path / "root"
    (tree / "run" / "postgresql").mkdir(parents=True)
    (tree / "var").mkdir()
    (tree / "var" / "run").symlink_to("/run")
    (tree / "etc").mkdir()
    (tree / "etc" / "up").symlink_to("../../..")
    (tree / "loop").symlink_to("/loop")
    (tmp_path / "run" / "postgresql").mkdir(parents=True)
    return tree


def test_an_absolute_symlink_is_followed_inside_the_root(root: Path) -> None:
    assert resolve_in(root, "/var/run/postgresql") == root / "run" / "postgresql"


def test_dot_dot_never_leaves_the_root(root: Path) -> None:
    assert resolve_in(root, "/etc/up/run/postgresql") == root / "run" / "postgresql"
    assert resolve_in(root, "/../../run") == root / "run"


def test_a_missing_path_and_a_symlink_loop_are_errors(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        resolve_in(root, "/var/run/mysqld")
    with pytest.raises(OSError) as info:
        resolve_in(root, "/loop/x")
    assert info.value.errno == errno.ELOOP


def test_a_process_is_not_taken_for_a_container_it_is_not_in() -> None:
    assert root_of(os.getpid(), "0123456789abcdef" * 4) is None
    assert root_of(0, "") is None
