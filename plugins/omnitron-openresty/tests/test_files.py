"""Writing the generated files touches nothing that did not change: a watcher of the directory sees no event."""

from __future__ import annotations

import os

from omnitron_openresty.files import write_files


def test_an_unchanged_write_changes_no_file_and_no_mode(tmp_path):
    root = tmp_path / "files"
    files = {"nginx.conf": "daemon off;\n", "omnitron/upstreams.conf": "upstream a { server 127.0.0.1:1; }\n"}
    assert write_files(root, files) is True
    assert {oct(os.stat(p).st_mode & 0o777) for p in (root, root / "omnitron")} == {"0o755"}
    before = {p: (os.stat(p).st_ctime_ns, os.stat(p).st_ino) for p in (root, root / "omnitron", root / "nginx.conf", root / "omnitron" / "upstreams.conf")}
    assert write_files(root, files) is False
    assert {p: (os.stat(p).st_ctime_ns, os.stat(p).st_ino) for p in before} == before  # no chmod, no replace
    assert write_files(root, {**files, "nginx.conf": "daemon on;\n"}) is True
    assert os.stat(root / "nginx.conf").st_ino != before[root / "nginx.conf"][1]  # replaced: a new inode
    assert write_files(root, {"nginx.conf": "daemon on;\n"}) is True and not (root / "omnitron").exists()  # pruned
