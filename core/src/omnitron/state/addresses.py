"""Runtime addresses: where a provider found a service when it chose at run time (a healthy bare-metal server).

The engine records them after ``ensure`` (:meth:`put_address`); loading a
stack points the plan's service there (:func:`~omnitron.engine.addresses.apply_recorded`)
while the provider and the spec hash are still those recorded, so apps' env
uses the server actually chosen, not the one the plan guessed. A host and
ports only, never a secret.
"""

from __future__ import annotations

import json
import time
from collections import namedtuple

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read the store
if TYPE_CHECKING:
    from typing import Any


class RecordedAddress(namedtuple("RecordedAddress", "service provider spec_hash host ports reason recorded_at", defaults=("", 0.0))):
    """Where ``service`` was found (immutable): ``provider`` and ``spec_hash`` (str) as they were then, ``host`` (str),
    ``ports`` (name -> port), ``reason`` (str) and ``recorded_at`` (epoch seconds).

    A named tuple, not a dataclass: the fast paths that read the store do not import :mod:`dataclasses`.
    """

    __slots__ = ()


class AddressesMixin:
    """:class:`~omnitron.state.StateStore`'s addresses table."""

    _conn: Any
    transaction: Any

    def put_address(self, stack: str, service: str, *, provider: str, spec_hash: str, host: str, ports: dict[str, int], reason: str = "") -> None:
        """Record where ``service`` was found now (replacing what was recorded)."""
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO addresses(stack, service, provider, spec_hash, host, ports_json, reason, recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                (stack, service, provider, spec_hash, host, json.dumps(ports, sort_keys=True), reason, time.time()),
            )

    def addresses(self, stack: str) -> dict[str, RecordedAddress]:
        """Service -> its recorded address, for every service of ``stack`` that has one."""
        rows = self._conn.execute("SELECT service, provider, spec_hash, host, ports_json, reason, recorded_at FROM addresses WHERE stack=? ORDER BY service", (stack,))
        return {row[0]: RecordedAddress(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6]) for row in rows}
