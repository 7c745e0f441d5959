"""``omnitron run APP [-- CMD...]``: wait for APP's infrastructure, then become CMD with its env.

The services APP uses are brought up (a no-op when they already run as
planned) and gated on health; APP's env is rendered with secrets read from the
store at this moment; then this process ``exec``s CMD, so no wrapper stays in
between: CMD gets signals directly and its exit code is the command's. A
detached watcher records where CMD really listens (a gateway follows it).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated, Any

from cyclopts import Parameter

from .options import AppArg, ProjectOpt, ProviderOpt, StackOpt, run_async

QUIET_FOR = 1.0
"""Seconds of silence before ``run`` says it is waiting for infrastructure."""


class WaitingNotice:
    """Progress to stderr, but only once waiting has lasted :data:`QUIET_FOR` seconds."""

    def __init__(self, app: str) -> None:
        self.app = app
        self.start = time.monotonic()
        self.announced = False
        self.last: dict[str, str] = {}

    def __call__(self, service: str, phase: str, detail: str = "") -> None:
        if phase in ("degraded", "failed") or time.monotonic() - self.start >= QUIET_FOR:
            if not self.announced:
                self.announced = True
                print(f"omnitron: {self.app}: waiting for infrastructure", file=sys.stderr, flush=True)
            if self.last.get(service) != phase:
                self.last[service] = phase
                print(f"omnitron:   {service}: {phase}" + (f" ({detail})" if detail else ""), file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"omnitron: warning: {message}", file=sys.stderr, flush=True)


def watch_in_background(stack: Any, app: str) -> None:
    """Fork the detached watcher that records where this process listens once it runs CMD (it keeps its pid across exec)."""
    from ..listening_watcher import watch_in_background as fork_watcher

    def record(pid: int, seen: set[tuple[str, int]]) -> None:
        from ..usecases.listening import record_observed

        record_observed(stack, app, pid, seen)

    fork_watcher(record)


NoUpOpt = Annotated[bool, Parameter(name="--no-up", negative="", help="Do not provision: only wait until the app's services are healthy.")]


def run_cmd(app: AppArg, /, *command: str, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, no_up: NoUpOpt = False) -> int:
    """Wait for APP's infrastructure, then run CMD (default: the app's command) with APP's env.

    Usage: ``omnitron run APP -- CMD [ARGS...]``. CMD replaces omnitron (exec):
    it receives signals directly and its exit code is the exit code.
    """
    from ..errors import ConfigError, OmnitronError
    from ..usecases import load_stack, prepare_app, require_app

    loaded = load_stack(project, stack, provider, record=provider is None and not no_up)
    for warning in loaded.project.loaded.warnings:
        warn(warning)
    plan = loaded.plan
    require_app(loaded, app)
    argv = list(command)
    cwd = None
    if not argv:
        argv = list(plan.apps[app].command or [])
        if not argv:
            raise ConfigError(f"app {app} has no command: give one after `--` or set command for it in the ecosystem's apps", file=loaded.project.config_file.name, path="apps")
        path = plan.apps[app].path
        cwd = path if path and os.path.isdir(path) else None
    env = run_async(prepare_app, loaded, app, provision=not no_up, progress=WaitingNotice(app), on_warning=warn)
    if loaded.inputs is not None:
        from ..usecases.plan_cache import remember

        run_async(remember, loaded, default=stack is None)
    sys.stdout.flush()
    sys.stderr.flush()
    if cwd is not None:
        os.chdir(cwd)
    watch_in_background(loaded, app)
    try:
        os.execvpe(argv[0], argv, {**os.environ, **env})
    except FileNotFoundError:
        err = OmnitronError(f"command not found: {argv[0]}")
        err.exit_code = 127
        raise err from None
    except PermissionError:
        err = OmnitronError(f"command not executable: {argv[0]}")
        err.exit_code = 126
        raise err from None
    return 0  # not reached
