"""``omnitron.config.py`` is code: its output goes to stderr, its evaluation has a time limit, and whatever it does
ends as one line naming the file (and the line), exit code 2, never a traceback.

Each case runs the real ``omnitron`` script in a subprocess (a hanging config must not hang the test, and
``os._exit``/file descriptors behave as for a user).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from omnitron.errors import ConfigError

OMNITRON = str(Path(sys.executable).with_name("omnitron"))
HEAD = "from omnitron import define_ecosystem\n"
ECO = "ecosystem = define_ecosystem(project='safe', infrastructure={'services': {}})\n"


def run(project: Path, *args: str, timeout: float = 30, env: dict[str, str] | None = None, stdout_closed: bool = False) -> subprocess.CompletedProcess:
    environ = {**os.environ, "OMNITRON_CONFIG_TIMEOUT": "1", **(env or {})}
    environ.pop("OMNITRON_PROJECT", None)
    argv = [OMNITRON, *args]
    if stdout_closed:
        argv = ["sh", "-c", 'exec "$@" >&-', "sh", *argv]
    return subprocess.run(argv, cwd=project, env=environ, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def write_config(tmp_path: Path, body: str) -> Path:
    (tmp_path / "omnitron.config.py").write_text(HEAD + body)
    return tmp_path


# -- output ------------------------------------------------------------------------------------------


def test_print_goes_to_stderr_and_json_stays_valid(tmp_path):
    project = write_config(tmp_path, "print('hello from the config')\nimport os\nos.write(1, b'raw fd write\\n')\n"
                           "import subprocess\nsubprocess.run(['echo', 'from a child'])\n" + ECO)
    result = run(project, "infra", "plan", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project"] == "safe"
    assert "hello from the config" in result.stderr and "raw fd write" in result.stderr and "from a child" in result.stderr


def test_a_config_closing_stdout_closes_nothing_of_ours(tmp_path):
    project = write_config(tmp_path, "import sys\nsys.stdout.close()\nprint('after close')\n" + ECO)
    result = run(project, "infra", "plan", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project"] == "safe"


def test_omnitron_with_a_closed_stdout_prints_no_traceback(tmp_path):
    project = write_config(tmp_path, "print('hello')\n" + ECO)
    result = run(project, "infra", "plan", "--json", stdout_closed=True)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr


# -- time limit ----------------------------------------------------------------------------------------

LOOPS = {
    "endless loop": "while True:\n    pass\n",
    "long sleep": "import time\ntime.sleep(600)\n",
    "loop swallowing the timeout": "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n",
    "waiting on a lock": "import threading\nthreading.Event().wait()\n",
}


@pytest.mark.parametrize("case", sorted(LOOPS))
def test_a_config_that_never_ends_is_stopped_at_the_limit(tmp_path, case):
    project = write_config(tmp_path, LOOPS[case] + ECO)
    result = run(project, "infra", "plan", "--json", timeout=20)
    one_line_error(result, "omnitron.config.py", "longer than 1s", "OMNITRON_CONFIG_TIMEOUT")
    assert result.stdout == ""


def test_the_limit_is_configurable_and_checked(tmp_path):
    project = write_config(tmp_path, "import time\ntime.sleep(1.5)\n" + ECO)
    assert run(project, "infra", "plan", "--json", env={"OMNITRON_CONFIG_TIMEOUT": "5"}).returncode == 0
    one_line_error(run(project, "infra", "plan", env={"OMNITRON_CONFIG_TIMEOUT": "soon"}), "OMNITRON_CONFIG_TIMEOUT='soon'")


def test_the_limit_holds_outside_the_main_thread(tmp_path):
    """A daemon may load the config from a worker thread: no SIGALRM there, the limit still holds."""
    from omnitron.loader import load_project

    write_config(tmp_path, "while True:\n    pass\n" + ECO)
    caught: list[BaseException] = []

    def load() -> None:
        try:
            load_project(tmp_path / "omnitron.config.py")
        except BaseException as exc:  # noqa: BLE001
            caught.append(exc)

    os.environ["OMNITRON_CONFIG_TIMEOUT"] = "0.5"
    try:
        worker = threading.Thread(target=load)
        worker.start()
        worker.join(10)
    finally:
        del os.environ["OMNITRON_CONFIG_TIMEOUT"]
    assert not worker.is_alive()
    assert len(caught) == 1 and isinstance(caught[0], ConfigError)
    assert "longer than 0.5s" in str(caught[0])


# -- exceptions ----------------------------------------------------------------------------------------

RAISES = {
    "GeneratorExit": ("raise GeneratorExit('closing')\n", ["line 2", "GeneratorExit"]),
    "SystemExit with text": ("import sys\nsys.exit('bye now')\n", ["line 3", "exit('bye now')"]),
    "SystemExit with a number": ("import sys\nsys.exit(3)\n", ["line 3", "exit(3)"]),
    "KeyboardInterrupt": ("raise KeyboardInterrupt\n", ["line 2", "KeyboardInterrupt"]),
    "custom BaseException": ("class Boom(BaseException):\n    pass\nraise Boom('x')\n", ["line 4", "Boom: x"]),
    "error whose message fails": ("class Bad(Exception):\n    def __str__(self):\n        raise ValueError\nraise Bad()\n", ["line 5", "Bad: (its message cannot be shown)"]),
    "recursion": ("def f():\n    return f()\nf()\n", ["RecursionError"]),
    "syntax error": ("ecosystem = define_ecosystem(\n", ["SyntaxError"]),
    "name error in the declaration": ("ecosystem = define_ecosystem(project=undefined_name)\n", ["line 2", "NameError"]),
}


@pytest.mark.parametrize("case", sorted(RAISES))
def test_anything_the_config_raises_is_one_line(tmp_path, case):
    body, needles = RAISES[case]
    project = write_config(tmp_path, body)
    one_line_error(run(project, "infra", "plan", "--json"), "omnitron.config.py", *needles)


# -- files that are not what they should be ----------------------------------------------------------------


def test_config_py_not_utf8(tmp_path):
    (tmp_path / "omnitron.config.py").write_bytes(HEAD.encode() + b"# caf\xe9\n" + ECO.encode())
    one_line_error(run(tmp_path, "infra", "plan"), "omnitron.config.py", "line 2", "not valid UTF-8")


def test_toml_not_utf8(tmp_path):
    (tmp_path / "omnitron.toml").write_bytes(b'project = "caf\xe9"\n')
    one_line_error(run(tmp_path, "infra", "plan"), "omnitron.toml", "line 1", "not valid UTF-8")


def test_app_config_not_utf8(tmp_path):
    write_config(tmp_path, "ecosystem = define_ecosystem(project='safe', apps=[{'name': 'web'}])\n")
    (tmp_path / "apps/web/config").mkdir(parents=True)
    (tmp_path / "apps/web/config/default.json").write_bytes(b'{"omnitron": {"database": "\xff"}}')
    one_line_error(run(tmp_path, "infra", "plan"), "apps/web/config/default.json", "not valid UTF-8")


def test_config_symlink_loop(tmp_path):
    (tmp_path / "omnitron.config.py").symlink_to(tmp_path / "omnitron.config.py")
    one_line_error(run(tmp_path, "infra", "plan"), "omnitron.config.py", "symlink loop")
    one_line_error(run(tmp_path.parent, "infra", "plan", "--project", str(tmp_path / "omnitron.config.py")), "symlink loop")


def test_config_is_a_directory(tmp_path):
    (tmp_path / "omnitron.config.py").mkdir()
    one_line_error(run(tmp_path, "infra", "plan"), "omnitron.config.py", "a directory, expected a config file")


def test_app_config_is_a_directory(tmp_path):
    write_config(tmp_path, "ecosystem = define_ecosystem(project='safe', apps=[{'name': 'web'}])\n")
    (tmp_path / "apps/web/config/default.json").mkdir(parents=True)
    one_line_error(run(tmp_path, "infra", "plan"), "apps/web/config/default.json", "a directory")


def test_app_config_dangling_symlink(tmp_path):
    write_config(tmp_path, "ecosystem = define_ecosystem(project='safe', apps=[{'name': 'web'}])\n")
    (tmp_path / "apps/web/config").mkdir(parents=True)
    (tmp_path / "apps/web/config/default.json").symlink_to(tmp_path / "nowhere.json")
    one_line_error(run(tmp_path, "infra", "plan"), "apps/web/config/default.json", "does not exist")


def test_help_does_not_evaluate_the_config(tmp_path):
    """``--help`` and ``--version`` never run the config (an endless loop in it does not slow them)."""
    project = write_config(tmp_path, "while True:\n    pass\n")
    for args in (("--help",), ("infra", "--help"), ("--version",)):
        result = run(project, *args, timeout=10)
        assert result.returncode == 0, (args, result.stderr)


@pytest.mark.parametrize(
    "body",
    [
        "define_ecosystem(project='bare', infrastructure={'services': {}})\n",  # export default defineEcosystem({...})
        "define_ecosystem({'project': 'bare', 'infrastructure': {'services': {}}})\n",
        "config = define_ecosystem(project='bare')\n",
    ],
    ids=["bare-call", "bare-call-with-a-dict", "any-variable"],
)
def test_one_define_ecosystem_call_declares_the_ecosystem(tmp_path, body):
    (tmp_path / "omnitron.config.py").write_text(HEAD + body)
    result = run(tmp_path, "config", "validate", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project"] == "bare"


def test_two_unassigned_declarations_are_refused(tmp_path):
    (tmp_path / "omnitron.config.py").write_text(HEAD + "define_ecosystem(project='a')\ndefine_ecosystem(project='b')\n")
    one_line_error(run(tmp_path, "config", "validate"), "omnitron.config.py: no ecosystem declared: call define_ecosystem(...) once")
