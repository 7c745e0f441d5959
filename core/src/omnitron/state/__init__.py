"""The project's state: the SQLite store under ``.omnitron/`` and the project lock."""

from .addresses import RecordedAddress
from .app_endpoints import AppEndpoint
from .endpoints import Endpoint
from .events import Event
from .lock import project_lock
from .store import IndexExhausted, StateStore, recorded_allocations, recorded_app_ports, recorded_facts

__all__ = ["AppEndpoint", "Endpoint", "Event", "IndexExhausted", "RecordedAddress", "StateStore", "project_lock", "recorded_allocations", "recorded_app_ports", "recorded_facts"]
