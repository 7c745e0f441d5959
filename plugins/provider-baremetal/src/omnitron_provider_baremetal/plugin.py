"""Hook implementations of omnitron-provider-baremetal (the ``baremetal`` entry point).

It defines a hook of its own (discovery backends, :mod:`.hookspecs`) and
registers its built-in backends through it, as a third party would.
"""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from omnitron.api import LazyClass

    # imported when a plan asks for a provider: listing plugins loads no discovery client
    return [LazyClass("baremetal", "omnitron_provider_baremetal.describe:BareMetalProvider")]


@hookimpl
def omnitron_add_hookspecs():
    from .hookspecs import HOOKS

    return [HOOKS]


@hookimpl
def omnitron_baremetal_add_discovery_backends():
    from omnitron.api import LazyClass

    return [
        LazyClass("static", "omnitron_provider_baremetal.static:StaticBackend"),
        LazyClass("consul", "omnitron_provider_baremetal.consul:ConsulBackend"),
        LazyClass("k8s", "omnitron_provider_baremetal.k8s:K8sBackend"),
    ]
