"""omnitron: infrastructure as declarative dependencies of apps.

The public surface plugin authors need is re-exported here; everything else
lives in small modules named after what they hold.
"""

from .declare import define_ecosystem

__all__ = ["__version__", "define_ecosystem", "hookimpl"]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # pluggy is imported only when a plugin asks for the marker (the daemon's fast path never does)
    if name == "hookimpl":
        from .hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
