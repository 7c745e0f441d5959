"""Use cases: what the CLI, plugin commands and the daemon do with a project.

Every one works on a :class:`Stack` (a project with one stack planned) and
prints nothing: progress goes through callbacks, results come back as data.

- :func:`load_stack`: find a project and plan a stack, with the provider choice (``auto``, remembered);
- :func:`bring_up`, :func:`bring_down`, :func:`reset`, :func:`what_reset_destroys`;
- :func:`stack_status`, :func:`stream_logs`, :func:`wait_for` (probe until healthy, provisioning nothing);
- :func:`prepare_app` (the gate + env of ``omnitron run``), :func:`app_env`, :func:`apps_to_migrate`, :func:`migrate`;
- :func:`events_of`, :func:`endpoints_of`, :func:`prune` (what the daemon keeps); :func:`keep`, :func:`kept_stacks`.
"""

from .apps import app_env, apps_to_migrate, migrate, prepare_app, recorded_index, require_app
from .lifecycle import bring_down, bring_up, chosen_provider, keep, kept_stacks, reset, stack_status, stream_logs, what_reset_destroys
from .keeping import PruneResult, endpoints_of, events_of, prune
from .loading import Stack, ask_available, last_provider, load_stack, remember_provider
from .waiting import WaitOutcome, wait_for

__all__ = [
    "PruneResult", "Stack", "app_env", "endpoints_of", "events_of", "prune", "apps_to_migrate", "ask_available", "bring_down", "bring_up", "chosen_provider", "keep", "kept_stacks", "last_provider",
    "load_stack", "migrate", "prepare_app", "recorded_index", "remember_provider", "require_app", "reset", "stack_status", "stream_logs",
    "WaitOutcome", "wait_for", "what_reset_destroys",
]
