"""The hook this plugin defines for others: discovery backends (``bareMetal.discovery``).

A plugin adds one (DNS SRV, etcd, ...) without touching this provider::

    from omnitron import hookimpl

    @hookimpl
    def omnitron_baremetal_add_discovery_backends():
        return [DnsBackend]          # a DiscoveryBackend subclass

The provider reads them with ``plugins.registry(DISCOVERY_HOOK)``; ``static``,
``consul`` and ``k8s`` register through this same hook.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from omnitron.api import Kind, PluginHooks, hookspec

if TYPE_CHECKING:
    from .backend import DiscoveryBackend

DISCOVERY_HOOK = "omnitron_baremetal_add_discovery_backends"


@hookspec
def omnitron_baremetal_add_discovery_backends() -> list[type[DiscoveryBackend]]:
    """Register discovery backends: how a bare-metal service finds its servers (``"discovery": NAME``).

    A backend's ``name`` is the value of ``bareMetal.discovery`` and the key of
    its options (``"consul": {...}``), which its ``options_model`` validates when
    planning; ``discover`` returns the servers at run time.

    :returns: :class:`~omnitron_provider_baremetal.backend.DiscoveryBackend` subclasses
        (or :class:`omnitron.api.LazyClass` references); each ``name`` unique.

    Called once, when a plan is made with the bare-metal provider installed.
    """


HOOKS = PluginHooks(specs=sys.modules[__name__], kinds=(Kind(DISCOVERY_HOOK, "discovery_backends", instantiate=True),))
"""What this plugin's ``omnitron_add_hookspecs`` returns."""
