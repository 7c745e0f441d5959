"""The bare-metal provider for omnitron: services on servers that already exist.

It connects to them (a static list with weights, or servers found through a
discovery backend: Consul, Kubernetes EndpointSlices, or one a plugin adds
with :data:`~omnitron_provider_baremetal.hookspecs.DISCOVERY_HOOK`), checks
their health with the service's declared probes, and hands apps the server
it chose. It never provisions, stops or removes a server.

Kept import-light: the CLI loads this package to find its hooks.
"""
