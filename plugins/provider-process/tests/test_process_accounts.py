"""Who services run as: giving a data directory to the service's account."""

from __future__ import annotations

import os
import time

from omnitron_provider_process.accounts import Account


def _ctimes(root) -> dict[str, int]:
    return {str(p): os.lstat(p).st_ctime_ns for p in [root, *root.rglob("*")]}


def test_chown_tree_leaves_what_the_account_owns_untouched(tmp_path):
    """A tree made for the account already (the template's spare copy) is only read: no inode is rewritten,
    so the new server's first commit does not wait for a thousand metadata writes."""
    tree = tmp_path / "data"
    (tree / "base" / "1").mkdir(parents=True)
    for i in range(20):
        (tree / "base" / "1" / str(i)).write_bytes(b"x")
    (tree / "PG_VERSION").write_text("15\n")
    os.symlink("PG_VERSION", tree / "link")
    before = _ctimes(tree)
    time.sleep(0.02)  # a rewritten inode would show a later ctime
    Account("me", os.getuid(), os.getgid()).chown_tree(tree)
    assert _ctimes(tree) == before


def test_chown_tree_gives_everything_else_to_the_account(tmp_path):
    if os.geteuid() != 0:
        import pytest

        pytest.skip("only root gives files away")
    tree = tmp_path / "data"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    os.chown(tree / "sub" / "f", 0, 0)
    account = Account("nobody", 65534, 65534)
    account.chown_tree(tree)
    assert {(os.lstat(p).st_uid, os.lstat(p).st_gid) for p in [tree, *tree.rglob("*")]} == {(65534, 65534)}
