"""The plan cache: ``infra up`` with nothing to do, ``infra status --json`` and ``omnitron run`` without a daemon,
answered without pydantic, a database driver or a plugin.

After a successful full ``infra up`` (and a full ``infra status`` or ``run``),
the command writes ``.omnitron/plan-cache/<stack>.json`` (:mod:`.files`; mode
0600, replaced atomically) holding what those commands need to answer again:
the services with their spec hashes and *quick checks* (:mod:`omnitron.quickcheck`,
contributed by the providers and health probes), the status document the full
path printed, and each app's env with every secret value replaced by a
reference to its key in the secret store. It holds no secret value.

Its key is everything the plan depends on (:mod:`.inputs`): the config files
and every other file evaluation and planning read, the directories they
listed, the environment variables read (and :func:`~omnitron.digests.env_fingerprint`),
the installed software, the secret store's files, and what planning reads
from the state store. :func:`.answer.answer` re-checks the key, then the
state store (every service ``ready`` at its planned spec hash, nothing
re-gated), then runs the quick checks; anything that does not hold sends the
command down its full path, which rewrites the cache (or removes it).

Orphans (services the plan no longer declares) need no check: they appear only
when the plan changes, and a changed plan is a changed key.

``OMNITRON_PLAN_CACHE=off`` (or ``0``, ``false``, ``no``) switches it off: nothing
is read or written.
"""

from __future__ import annotations

import os

SWITCH_ENV = "OMNITRON_PLAN_CACHE"


def switched_off() -> bool:
    """Whether ``OMNITRON_PLAN_CACHE`` switches the plan cache off."""
    return os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "false", "no")
