"""The project's state: the SQLite store under ``.omnitron/`` and the project lock."""

from .endpoints import Endpoint
from .events import Event
from .lock import project_lock
from .store import IndexExhausted, StateStore, recorded_facts

__all__ = ["Endpoint", "Event", "IndexExhausted", "StateStore", "project_lock", "recorded_facts"]
