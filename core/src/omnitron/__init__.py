"""omnitron: infrastructure as declarative dependencies of apps.

The public surface plugin authors need is re-exported here; everything else
lives in small modules named after what they hold.
"""

from .hookspecs import hookimpl
from .declare import define_ecosystem

__all__ = ["__version__", "define_ecosystem", "hookimpl"]

__version__ = "0.1.0"
