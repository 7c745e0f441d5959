"""Work left to a detached shell: it begins once the process that asked for it exits, or after its wait runs out."""

import subprocess
import sys
import time
from pathlib import Path


def _wait_for(path: Path, timeout: float = 30.0) -> float:
    start = time.monotonic()
    while not path.exists():
        assert time.monotonic() - start < timeout, f"{path} did not appear"
        time.sleep(0.02)
    return time.monotonic() - start


def _asker(tmp_path: Path, wait_at_most: float) -> subprocess.Popen:
    script = (
        "import sys; from omnitron.api import run_after_exit; "
        f"run_after_exit('printf %s \"$2\" > \"$1\"', {str(tmp_path / 'done')!r}, 'two words', wait_at_most={wait_at_most}); "
        "print('asked', flush=True); sys.stdin.readline()"
    )
    return subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_the_work_begins_once_the_process_that_asked_for_it_exits(tmp_path):
    with _asker(tmp_path, 60) as child:
        assert child.stdout.readline().strip() == "asked"
        time.sleep(0.5)
        assert not (tmp_path / "done").exists()  # still running: nothing yet
    _wait_for(tmp_path / "done")
    assert (tmp_path / "done").read_text() == "two words"  # its arguments, as given


def test_a_process_that_goes_on_has_the_work_done_after_the_wait(tmp_path):
    with _asker(tmp_path, 0.3) as child:
        assert child.stdout.readline().strip() == "asked"
        _wait_for(tmp_path / "done", timeout=10)
        assert child.poll() is None  # done while it still runs
        child.stdin.write("\n")
        child.stdin.flush()
    assert (tmp_path / "done").read_text() == "two words"
