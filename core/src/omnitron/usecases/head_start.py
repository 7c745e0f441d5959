"""Head starts around a full ``infra up``: handing over what one started, keeping the offers of a cold one for the next.

How and when a head start runs: :mod:`omnitron.plancache.headstart`. Nothing
here may fail the command: a head start is an optimisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.head_start import HeadStarts
    from .loading import Stack


def prepare(stack: Stack, *, whole: bool) -> HeadStarts:
    """This ``up``'s :class:`~omnitron.engine.head_start.HeadStarts`: the services this process's head start is making
    run (once each has made what the stack shares), and whether to collect offers (``whole``: an ``up`` of the
    whole stack, recorded for the plan cache, of a stack that is down)."""
    from ..engine.head_start import HeadStarts
    from ..plancache.headstart import take_over
    from ..state import StateStore

    ahead, ran = take_over(stack.project.root, stack.name)
    if not (whole and stack.inputs is not None):
        return HeadStarts(ahead)
    with StateStore(stack.project.state_dir) as state:
        cold = not state.is_kept(stack.name)
    return HeadStarts(ahead, collect=cold, ran=ran)


def remember(stack: Stack, offers: dict[str, dict[str, Any]] | None, seconds: dict[str, float]) -> None:
    """Keep ``offers`` (a cold ``up`` that succeeded, its services ready after ``seconds``) with the key of what its
    plan was made from."""
    if not offers or stack.inputs is None:
        return
    try:
        _remember(stack, offers, max(seconds, key=seconds.__getitem__) if seconds else None)
    except Exception:  # noqa: BLE001 - a head start not kept is a slower next cold up, nothing more
        return


def _remember(stack: Stack, offers: dict[str, dict[str, Any]], slowest: str | None) -> None:
    from ..digests import env_digest
    from ..plancache import headstart
    from ..plancache.inputs import digest_files
    from ..secret_tokens import wanted
    from ..secrets.resolve import backend_for

    if headstart.off():
        return
    project = stack.project
    backend = backend_for(project)
    watched = backend.watched_files()
    needs_secrets = any(wanted(o["recipe"]) for o in offers.values())
    if watched is None or (needs_secrets and not type(backend).light):
        return  # its secrets could not be read before planning
    key = dict(stack.inputs or {})
    names = key.get("envNames")
    if names is not None:  # else every variable is in it already
        names = sorted(set(names) | {n for o in offers.values() for n in o["env"]})
        key.update(envNames=names, env=env_digest(names))
    key["secrets"] = digest_files([str(p) for p in watched])
    cls = type(backend)
    headstart.add(project.state_dir, {
        "root": str(project.root),
        "project": stack.plan.project,
        "stack": stack.name,
        "defaultStack": project.default_stack(),
        "providerOption": stack.provider_option,
        "key": key,
        "secretBackend": f"{cls.__module__}:{cls.__qualname__}" if cls.light else None,
        "services": offers,
        "slowest": slowest,
    })
