"""Exceptions that reach the user as one line, never as a traceback.

Every error a user can cause with their config or command line derives from
:class:`OmnitronError`. The CLI prints ``str(error)`` and exits with
``error.exit_code``; anything else is a bug in omnitron.
"""

from __future__ import annotations


class OmnitronError(Exception):
    """Base class of errors reported to the user as a single line."""

    exit_code = 1


class ConfigError(OmnitronError):
    """A declaration is malformed or inconsistent.

    Formatted as ``FILE: dotted.path: message`` so the user can go straight to
    the offending field.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None) -> None:
        self.file = file
        self.path = path
        self.message = message
        super().__init__(self.format())

    def format(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        parts.append(self.message)
        return ": ".join(parts)

    def at(self, *, file: str | None = None, path_prefix: str | None = None) -> "ConfigError":
        """Return a copy located in ``file`` and/or below ``path_prefix``."""
        path = self.path
        if path_prefix:
            path = f"{path_prefix}.{path}" if path else path_prefix
        return type(self)(self.message, file=file or self.file, path=path)


class PlanError(ConfigError):
    """The declarations are valid one by one but cannot be planned together."""


class TemplateError(ConfigError):
    """An env template cannot be rendered (unknown function, port or secret)."""


class PluginError(OmnitronError):
    """Plugins conflict (two provide the same name) or a required one is missing."""

    exit_code = 2


class SecretError(OmnitronError):
    """A secret cannot be read, written or decrypted."""

    exit_code = 1


class ProvisionError(OmnitronError):
    """A service could not be provisioned or did not become healthy."""

    exit_code = 1


class StartupTimeout(ProvisionError):
    """A provider's wait for a service it started ran out of the service's ``startupTimeout``.

    Providers (and process recipes) raise it in their own words ("not listening after 30s"); the engine then
    adds, once, what to do next: look at the service, or give it a longer ``startupTimeout``. Any other error
    is reported as it is, however long it took to come.
    """


class BackupError(OmnitronError):
    """A backup cannot be made, found, trusted (a checksum differs) or restored."""

    exit_code = 1
