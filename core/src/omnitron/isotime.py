"""Times as the spec's state speaks them: ISO 8601 in UTC to the second, whoever wrote them."""

from __future__ import annotations

import datetime as _dt
import re

_FRACTION = re.compile(r"(\.\d+)")


def iso_utc(stamp: str) -> str:
    """An ISO 8601 time (any precision, ``Z`` or an offset, nanoseconds as Docker writes them) in UTC to the second
    (``2026-01-31T12:00:00+00:00``); unchanged when it is not one."""
    text = _FRACTION.sub(lambda m: m.group(1)[:7], stamp.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = _dt.datetime.fromisoformat(text)
    except ValueError:
        return stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc).isoformat(timespec="seconds")
