"""How a preset's data volume can start from a cached, initialised copy instead of being initialised by its image.

A preset returns a :class:`DataTemplate` from ``Preset.data_template()``. A
container provider (the docker provider does) may then, for a service whose
data volume it has just created:

1. find its cached template for the service's image ID and init-time
   settings (:meth:`DataTemplate.key_settings`), or build it once: run the
   image with the service's env, every variable of :attr:`~DataTemplate.credential_env`
   replaced by a random value, :attr:`~DataTemplate.data_env` pointing at a
   directory of its own, until every line of :attr:`~DataTemplate.ready_logs`
   has appeared in order, then stop it and keep the initialised data;
2. fill the new, empty volume with a copy (without the files of
   :attr:`~DataTemplate.rebuilt_files`) before the container first starts,
   so the image's entrypoint finds the data initialised and skips its
   initialisation;
3. run :attr:`~DataTemplate.adopt` in the started container (with the
   container's env, so no secret is passed on a command line): it waits for
   the server and sets the service's own credentials through its local
   socket, before the service can be reported ready. The template's random
   credentials are never stored. Where the engine runs on this machine and
   the container's root directory can be reached from here (``/proc/<pid>/root``,
   as root), :attr:`~DataTemplate.adopt_from_host` (when the preset has one)
   does the same from this side instead, through the server's socket in the
   container: no process is started in it. When it cannot,
   ``adopt`` runs as above.

An existing volume is never seeded. The template's key covers the image ID,
so an image rebuilt or pulled again gets a new template.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _always(env: Mapping[str, str]) -> str | None:
    return None


@dataclass(frozen=True)
class DataTemplate:
    """What a provider needs to seed a preset's data volume (see the module docs)."""

    volume: str
    """The declared volume (its ``source``) that holds the data."""
    ready_logs: tuple[str, ...]
    """Substrings of the container's output that, in this order, mean: initialised, and the server is up."""
    adopt: tuple[str, ...]
    """Command run in the started container (its env available) to set the service's credentials; exit 0 when done."""
    credential_env: tuple[str, ...] = ()
    """Container env vars holding credentials: random in the template, left out of its key."""
    data_env: str | None = None
    """Env var naming the data directory (``PGDATA``), when it may be a sub-directory of the volume."""
    refuse: Callable[[Mapping[str, str]], str | None] = field(default=_always)
    """Given the container's env: why a template cannot stand in for the image's own initialisation, or ``None``."""
    adopt_from_host: Callable[[Callable[[str], Path], Mapping[str, str], float], Awaitable[None]] | None = None
    """What :attr:`adopt` does, done from this side. Called with ``resolve`` (a path in the started container ->
    the same file as seen from here, the container's symlinks followed inside the container), the container's
    env and a timeout in seconds: waits for the server and sets the credentials through its socket. Raises when
    it cannot (the provider then runs :attr:`adopt`)."""
    rebuilt_files: tuple[str, ...] = ()
    """``fnmatch`` patterns of paths in the data directory (``base/*_fsm``) of files the server makes again when
    they are missing: left out of the copy (fewer files to create for each new volume)."""

    def key_settings(self, env: Mapping[str, str]) -> dict[str, str]:
        """The env that shapes the initialised data (everything but the credentials)."""
        return {key: value for key, value in sorted(env.items()) if key not in self.credential_env}
