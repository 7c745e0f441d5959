"""Helpers a plugin's tests use to drive a provider or a preset without the whole engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..plugins import PluginManager
    from ..project import Project
    from ..providers import ProgressFn, ProviderContext, RuntimeSpec


def plugin_manager(*plugins: Any, **named: Any) -> PluginManager:
    """A plugin manager with the built-ins and exactly ``plugins`` (modules or objects; ``name=plugin`` to name one).

    Installed entry points stay out, so a test sees only what it lists.
    """
    from ..plugins import PluginManager

    pm = PluginManager(load_entrypoints=False)
    for plugin in plugins:
        pm.register(plugin, name=getattr(plugin, "__name__", None), check=False)
    for name, plugin in named.items():
        pm.register(plugin, name=name, check=False)
    pm.check_hooks()  # once all are in: a plugin may implement a hook one listed after it defines
    return pm


def render_runtime_spec(
    svc: PlannedService, plugins: PluginManager, secret: Callable[[str], str], *, plan: Plan | None = None, facts: Mapping[str, Mapping[str, str]] | None = None
) -> RuntimeSpec:
    """What the engine hands a provider for ``svc``: env and command rendered with ``secret`` (store key -> value), the recipe resolved.

    Templates reading the plan (another service's port) or recorded service facts need ``plan`` and ``facts``.
    """
    from ..engine.render import render_runtime_spec as render
    from ..templating import Renderer

    return render(svc, Renderer(plugins.template_functions), secret, plugins.presets, plan=plan, facts=facts)


def provider_context(project: Project, stack: str = "dev", *, progress: ProgressFn | None = None, state: Any = None) -> ProviderContext:
    """The context a provider is made with for ``project``'s ``stack`` (``state``: a :class:`~omnitron.state.StateStore`)."""
    from ..providers import ProviderContext

    return ProviderContext(
        project=project.name,
        stack=stack,
        project_dir=project.root,
        state_dir=project.stack_dir(stack),
        progress=progress or (lambda service, phase, detail: None),
        state=state,
        plugins=project.plugins,
    )


_REPORT_IMPORTS = """
import json, os, sys
from omnitron.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open(os.environ["OMNITRON_TEST_IMPORTS_TO"], "w") as out:
        json.dump(sorted({name.partition(".")[0] for name in sys.modules}), out)
sys.exit(code)
"""


_REPORT_IMPORTS_OF_SCRIPT = """
import json, os, sys
first = os.getpid()
real_exec, real_exit = os.execvpe, os._exit

def report():
    if os.getpid() == first:  # not the watcher `run` forks
        with open(os.environ["OMNITRON_TEST_IMPORTS_TO"], "w") as out:
            json.dump(sorted({name.partition(".")[0] for name in sys.modules}), out)

def execvpe(*args):
    report()
    return real_exec(*args)

def _exit(code):
    report()
    real_exit(code)

os.execvpe, os._exit = execvpe, _exit
sys.argv = ["omnitron", *sys.argv[1:]]
from omnitron.cli import run
run()
"""


@dataclass
class ScriptRun:
    """What one run of the ``omnitron`` script did (:func:`run_script`)."""

    code: int
    out: str
    err: str
    modules: set[str]
    """Top-level modules loaded when it exited (or ``exec``-ed the app's command)."""


def run_script(argv: list[str], *, env: Mapping[str, str] | None = None, cwd: Any = None, timeout: float = 120) -> ScriptRun:
    """Run ``omnitron ARGV`` as the ``omnitron`` script does (:func:`omnitron.cli.run`: the fast paths first), in a fresh interpreter."""
    return _reporting(_REPORT_IMPORTS_OF_SCRIPT, argv, env, cwd, timeout)


def modules_imported_by(argv: list[str], *, env: Mapping[str, str] | None = None, cwd: Any = None, timeout: float = 120, script: bool = False) -> tuple[int, set[str]]:
    """Run ``omnitron ARGV`` in a fresh interpreter; its exit code and the top-level modules it imported.

    For tests that a command stays off heavy libraries (``"psycopg" not in imported``):
    a behaviour checked without timing anything.

    :param script: as the ``omnitron`` script runs it (:func:`run_script`); else the command line alone (no fast path).
    """
    done = _reporting(_REPORT_IMPORTS_OF_SCRIPT if script else _REPORT_IMPORTS, argv, env, cwd, timeout)
    return done.code, done.modules


def _reporting(code: str, argv: list[str], env: Mapping[str, str] | None, cwd: Any, timeout: float) -> ScriptRun:
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="omnitron-imports-") as tmp:
        report = os.path.join(tmp, "modules.json")
        environ = {**(env if env is not None else os.environ), "OMNITRON_TEST_IMPORTS_TO": report}
        done = subprocess.run([sys.executable, "-c", code, *argv], env=environ, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(report):
            raise AssertionError(f"omnitron {' '.join(argv)} did not finish: {done.stderr.strip()[-2000:]}")
        with open(report) as f:
            return ScriptRun(done.returncode, done.stdout, done.stderr, set(json.load(f)))
