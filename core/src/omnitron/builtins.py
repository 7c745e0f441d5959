"""omnitron's own built-ins, registered through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl


@hookimpl
def omnitron_add_health_probes():
    from .lazy import LazyClass

    # imported when a probe is looked up: listing plugins loads no config models
    return [LazyClass("tcp", "omnitron.health:TcpProbe"), LazyClass("http", "omnitron.health:HttpProbe"), LazyClass("command", "omnitron.health:CommandProbe")]


@hookimpl
def omnitron_add_template_functions():
    from .templating import BUILTIN_FUNCTIONS

    return list(BUILTIN_FUNCTIONS)


@hookimpl
def omnitron_add_secret_backends():
    from .secrets.filestore import EncryptedFileBackend

    return [EncryptedFileBackend]


@hookimpl
def omnitron_add_providers():
    from .lazy import LazyClass

    return [LazyClass("external", "omnitron.external:ExternalProvider")]
