"""The preset interface: what a plugin implements to add ``{"preset": NAME}``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .data_templates import DataTemplate
    from .model import ServiceRequirement, ServiceType
    from .plan import AllocationRequest, PlannedService
    from .process import ProcessRecipe
    from .runtime import ServiceHandle


class PresetConfig(BaseModel):
    """Base of a preset's ``config`` model: unknown keys are errors, camelCase accepted."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


@dataclass(frozen=True)
class Credential:
    """A secret a preset needs and omnitron generates on first provision.

    Stored under ``<project>/<stack>/<service>/<logical name>`` in the secret
    backend and reused on later runs; no preset ships a default password.
    """

    length: int = 32
    alphabet: str = "url-safe"
    """``url-safe`` (letters, digits, ``-_``) or ``hex``."""


@dataclass
class AppBinding:
    """What an app shorthand (``"database": true``) gets from a service.

    :param env: env templates injected into the app, rendered against the service.
    :param allocation: what to allocate for the app on the service (a database,
        a DB index, a bucket), or ``None``.
    :param credentials: secrets generated for this app alone on first provision
        (its own database user's password, its own access key), by logical name.
        They are stored under ``<project>/<stack>/<service>/apps/<app>/<name>`` in the
        secret backend; ``env`` templates use them as ``${secret:NAME}`` (they win
        over the service's secrets of the same name) and :meth:`Preset.allocate`
        reads them with :meth:`~omnitron.runtime.ServiceHandle.request_secret`.
    """

    env: dict[str, str]
    allocation: AllocationRequest | None = None
    credentials: dict[str, Credential] = field(default_factory=dict)


@dataclass
class BackupFile:
    """One file of a service's backup: what :meth:`Preset.backup` returns and :meth:`Preset.restore` gets back.

    omnitron writes ``data`` under the backup's directory, records its size and
    sha256 in the manifest, and hands it back unchanged (checksums verified) on restore.
    """

    name: str
    """File name, unique within the service's backup (``orders.pgdump``, ``dump.rdb``): letters, digits, ``._-``."""
    data: bytes
    kind: str
    """What the bytes are, for people and for the restore (``pg_dump custom``, ``redis rdb``, ``mysqldump sql``)."""
    meta: dict[str, str] = field(default_factory=dict)
    """Anything the restore needs (``{"database": "orders"}``); kept in the manifest, public values only."""


@dataclass(frozen=True)
class ExpandContext:
    """What :meth:`Preset.expand` may know besides its config."""

    project: str
    stack: str
    service: str
    app: str | None = None
    """The app owning the service (dedicated or app-scoped), else ``None``."""
    project_dir: str = ""
    """The project's directory (absolute), against which a preset resolves paths of its config (a ``configDir``)."""
    files_dir: str = ""
    """A directory of the service's own on the host (absolute), for files its preset generates for it (a config
    the service reads, bind-mounted into its container): :meth:`Preset.materialise` writes there, the planner
    digests nothing there (it is output, not input), and ``down --volumes`` deletes it."""
    extra: dict[str, Any] = field(default_factory=dict)


class Preset(ABC):
    """A named, versioned service template.

    Subclasses set the class attributes and implement :meth:`expand`; the
    runtime hooks (:meth:`materialise`, :meth:`prepare`, :meth:`allocate`,
    :meth:`maintain`) have no-op defaults.
    """

    name: ClassVar[str]
    """The name used in ``{"preset": NAME}``."""
    service_type: ClassVar[ServiceType]
    config_model: ClassVar[type[BaseModel]] = PresetConfig
    """Validates the ``config`` of a declaration."""
    shorthand: ClassVar[str | None] = None
    """App shorthand this preset serves: ``database``, ``redis`` or ``s3``."""
    dialects: ClassVar[tuple[str, ...]] = ()
    """For the ``database`` shorthand: the dialects served (``postgres``)."""
    credentials: ClassVar[dict[str, Credential]] = {}
    """Logical secret name -> credential generated on first provision."""
    concurrent_allocations: ClassVar[bool] = False
    """Whether :meth:`allocate` may run for several requests of one service at once (each makes only its own
    database or index, and whatever it shares it takes without awaiting in between): ``up`` then makes them
    concurrently, in the order of the requests."""

    def parse_config(self, raw: dict[str, Any]) -> BaseModel:
        return self.config_model.model_validate(raw)

    @abstractmethod
    def expand(self, config: Any, ctx: ExpandContext) -> ServiceRequirement:
        """Return the full requirement for ``config`` (pure, no I/O).

        Secrets named in :attr:`credentials` are added to ``secrets`` by the
        planner; templates may use ``${secret:NAME}`` for them.
        """

    def dedicated_config(self, app: str, request: Any) -> dict[str, Any]:
        """Config of a service provisioned for ``app`` alone (``{"dedicated": true}``)."""
        return {}

    def shorthands(self, config: Any) -> dict[str, Any]:
        """App shorthands the service itself uses, as an app's ``"redis": true`` does (pure).

        ``{"redis": True}`` (or a request model such as ``RedisRequest``): the
        planner binds the service to the shared service of that shorthand's
        preset, the way it binds an app, with the owner ``service:<name>`` (so
        what is allocated for it, a Redis DB index, is never handed to an app);
        the service depends on the bound one, its allocation is made when the
        bound service comes up, before this one starts, and the binding's env
        (``REDIS_URL``) is rendered into the service's own runtime env.
        """
        return {}

    def bind_app(self, app: str, request: Any, service: str) -> AppBinding:
        """What ``app`` gets from ``service`` for its shorthand ``request`` (pure).

        ``request`` is the shorthand's model (``DatabaseRequest``, ...) or ``True``.
        """
        raise NotImplementedError(f"preset {self.name!r} does not serve an app shorthand")

    async def materialise(self, service: ServiceHandle) -> None:
        """Write what the service reads when it starts (a config generated from the plan), before its provider ensures it runs.

        Called by ``infra up`` on every run, whether or not the provider then
        (re)starts the service: it must be idempotent, and it must not make a
        running service pick anything up (:meth:`maintain` applies changes to a
        running one). Files go to the service's files directory
        (:attr:`ExpandContext.files_dir`).
        """
        return None

    async def prepare(self, service: ServiceHandle) -> dict[str, str] | None:
        """Called once the service is healthy: create databases, extensions, buckets.

        Must be idempotent: it runs on every ``infra up``.

        :returns: the service's *facts*, or ``None`` to record none: public values
            known only once the service runs (a hidden service's hostname, a
            generated node id). They replace the service's previous facts in the
            state store and reach every template context of the plan as
            ``ctx.facts[service]``, so a template function can render them in any
            app's env; until recorded, such a function renders
            :data:`~omnitron.templating.PENDING`. ``down --volumes`` forgets them.
            Never return a secret: facts are stored and shown in plain text.
        """
        return None

    async def allocate(self, service: ServiceHandle, request: AllocationRequest) -> dict[str, str]:
        """Make ``request`` exist on the running service, idempotently.

        :returns: values for the ``${alloc:KEY}`` template of the app.
        """
        return dict(request.values)

    async def backup(self, service: ServiceHandle) -> list[BackupFile] | None:
        """Copy the running service's data (``omnitron backup create``), where it runs, through ``service.exec``.

        ``None`` (the default): this preset keeps no data worth a backup, and the
        service is listed as skipped. A preset that returns files implements
        :meth:`restore` too. :func:`~omnitron.runtime.exec_bytes` runs a dump tool
        where the service runs and returns its binary output.

        :returns: the files of the backup (databases dumped, a snapshot), or ``None``.
        """
        return None

    async def restore(self, service: ServiceHandle, files: list[BackupFile]) -> None:
        """Put back what :meth:`backup` returned (``omnitron backup restore``), replacing the service's current data.

        Runs once the service is healthy, after the files' checksums were
        verified. It may stop the service (to put a snapshot in place): the
        engine brings the restored services up again and waits for their health.
        ``service.exec(argv, input=data)`` feeds a dump to a restore tool's stdin.
        """
        raise NotImplementedError(f"preset {self.name!r} has no restore")

    async def fresh_copy(self, service: ServiceHandle, request: AllocationRequest, values: dict[str, str], token: str) -> dict[str, str]:
        """A clean copy of an app's allocation for one test (the ``omnitron_database`` / ``omnitron_redis`` fixtures).

        A database preset clones the app's (migrated) database under a new name
        built from ``token``; a preset whose resource is cheap to empty may empty
        the app's own and return ``values`` (the recorded ``${alloc:...}`` values).

        :returns: the ``${alloc:...}`` values of the copy: the app's env is rendered with them.
        """
        raise NotImplementedError(f"preset {self.name!r} cannot make a copy of {request.kind} {request.name} for a test")

    async def tune_for_tests(self, service: ServiceHandle) -> None:
        """Trade durability for speed on a stack only tests use (the app-test plugin calls it once a session).

        Postgres turns ``fsync`` off, as pytest-postgresql's servers run. Never
        called for the project's default stack. A no-op by default.
        """
        return None

    async def drop_copy(self, service: ServiceHandle, request: AllocationRequest, values: dict[str, str]) -> None:
        """Remove what :meth:`fresh_copy` made (``values`` are what it returned); a no-op by default."""
        return None

    async def maintain(self, service: ServiceHandle) -> None:
        """a periodic chore: called by `infra up` after the service is prepared and its allocations made, and by the daemon on every reconcile tick; must be idempotent and cheap when nothing is to do"""
        return None

    def watched_paths(self, service: PlannedService) -> list[Path]:
        """host paths whose change should make the daemon run `maintain` for this service promptly, within 1 s"""
        return []

    def process_recipe(self) -> ProcessRecipe | None:
        """How to run this service as a native process, or ``None`` if it cannot be."""
        return None

    def process_recipe_for(self, service: PlannedService) -> ProcessRecipe | None:
        """The recipe that runs ``service`` (its ``config`` may choose among several servers).

        The engine asks this when it renders the service's runtime spec for a provider
        (:attr:`RuntimeSpec.recipe`); the default is :meth:`process_recipe`.
        """
        return self.process_recipe()

    def data_template(self) -> DataTemplate | None:
        """How a container provider may seed this service's new data volume from a cached, initialised copy
        (see :mod:`omnitron.data_templates`), or ``None``: the image initialises it."""
        return None
