"""Concurrent work whose failures still reach the user as one line.

An anyio task group raises what its tasks raised as an exception group, which
the CLI would print as a traceback. :func:`task_group` raises a group made only
of :class:`~omnitron.errors.OmnitronError` as one such error holding every
message; a group holding anything else (a bug, a cancellation) goes on as it is,
so nothing is swallowed.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from .errors import OmnitronError

if TYPE_CHECKING:
    from anyio.abc import TaskGroup


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def one_error(group: BaseExceptionGroup) -> OmnitronError | None:
    """The group as one :class:`OmnitronError` (see :func:`combined`); ``None`` when it holds anything else."""
    leaves = _leaves(group)
    if not leaves or not all(isinstance(exc, OmnitronError) for exc in leaves):
        return None
    return combined(leaves)  # type: ignore[arg-type]


def combined(errors: Sequence[OmnitronError]) -> OmnitronError:
    """Several errors as one, of the first one's type, every message kept: ``FIRST (and N more: SECOND; THIRD)``.

    One error comes back as itself.
    """
    first, rest = errors[0], errors[1:]
    if not rest:
        return first
    out = copy.copy(first)
    out.args = (f"{first} (and {len(rest)} more: {'; '.join(str(exc) for exc in rest)})",)
    out.__traceback__ = None
    return out


@asynccontextmanager
async def task_group() -> AsyncIterator[TaskGroup]:
    """``anyio.create_task_group()``, raising a group of :class:`OmnitronError` as one (see :func:`one_error`)."""
    import anyio

    try:
        async with anyio.create_task_group() as tg:
            yield tg
    except BaseExceptionGroup as group:
        one = one_error(group)
        if one is None:
            raise
        raise one from None
