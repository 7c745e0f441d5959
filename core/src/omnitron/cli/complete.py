"""Names the shell completes from the project (``omnitron --install-completion`` installs the script).

The generated script knows the commands and options; at TAB time it asks
``omnitron __complete WORDS...`` for the values below, read from the project
named by ``--project`` (or found from the current directory up). Nothing here
runs for a normal command, and nothing here may fail loudly: a project that
does not load completes nothing.
"""

from __future__ import annotations

from typing import Any


def _given(context: Any, name: str) -> str | None:
    try:
        value = context[name]
    except KeyError:
        return None
    return value.raw if value.provided else None


def _project(context: Any) -> Any:
    from ..project import Project

    return Project.discover(_given(context, "--project"))


def _plan(context: Any, project: Any) -> Any:
    every = {name: True for name in project.plugins.providers}  # no provider is asked anything: completion stays quick
    return project.plan(_given(context, "--stack"), available=every)


def names(kind: str, context: Any) -> list[str]:
    """``stacks``, ``apps``, ``services`` or ``backups`` of the project, matching what is typed so far."""
    try:
        project = _project(context)
        if kind == "stacks":
            found = sorted(project.loaded.ecosystem.stacks)
        elif kind == "apps":
            found = sorted(project.loaded.apps)
        elif kind == "services":
            found = [s.name for s in _plan(context, project).services]
        elif kind == "backups":
            from ..backups import list_backups

            found = [m.id for _, m in reversed(list_backups(project.state_dir / "backups"))]
        else:
            found = []
    except Exception:
        return []
    return [n for n in found if n.startswith(context.incomplete)]
