"""The ``process`` provider: services run as supervised native processes."""

from .provider import ProcessProvider

__all__ = ["ProcessProvider"]
