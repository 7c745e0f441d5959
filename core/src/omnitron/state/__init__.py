"""The project's state: the SQLite store under ``.omnitron/`` and the project lock."""

from .addresses import RecordedAddress
from .endpoints import Endpoint
from .events import Event
from .lock import project_lock
from .store import IndexExhausted, StateStore, recorded_facts

__all__ = ["Endpoint", "Event", "RecordedAddress", "IndexExhausted", "StateStore", "project_lock", "recorded_facts"]
