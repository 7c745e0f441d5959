"""omnitron's own built-ins, registered through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl


@hookimpl
def omnitron_add_health_probes():
    from .health import BUILTIN_PROBES

    return list(BUILTIN_PROBES)


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
    from .external import ExternalProvider

    return [ExternalProvider]
