"""What presets and probes see of a running service, and what a command run where it runs returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import AllocationRequest, Plan, PlannedService


CAPTURE = (
    'out=$(mktemp) && err=$(mktemp) || exit 125; "$@" >"$out" 2>"$err"; rc=$?; '
    'if [ "$rc" -eq 0 ]; then base64 "$out" || rc=$?; else cat "$err"; fi; rm -f "$out" "$err"; exit "$rc"'
)
"""Runs a command where a service runs and prints its stdout in base64 (its stderr only when it fails):
an exec's output is text with stderr merged, so binary output travels this way."""


async def exec_bytes(handle: ServiceHandle, command: list[str], *, input: bytes | None = None, timeout: float | None = None) -> bytes:
    """The binary stdout of ``command`` run where ``handle``'s service runs (a ``pg_dump -Fc``, a file's bytes).

    Needs ``sh``, ``mktemp`` and ``base64`` there (any Debian or Alpine image, any host).

    :raises ProvisionError: the command exits non-zero (its stderr in the message).
    """
    import base64

    from .errors import ProvisionError

    argv = ["sh", "-c", CAPTURE, "exec-bytes", *command]
    result = await (handle.exec(argv) if input is None and timeout is None else handle.exec(argv, input=input, timeout=timeout))
    if result.exit_code != 0:
        detail = result.output.strip()[-500:] or "no output"
        raise ProvisionError(f"service {handle.name}: `{' '.join(command[:3])}` failed with exit code {result.exit_code}: {detail}")
    return base64.b64decode(result.output)


@dataclass
class ExecResult:
    exit_code: int
    output: str


@dataclass
class ServiceHandle:
    """A provisioned service, as presets (``prepare``/``allocate``) and health probes use it.

    :param secret: resolves a logical secret name of the service to its value.
    :param exec: runs a command where the service runs (inside its container):
        ``await exec(argv)``, or ``await exec(argv, input=b"...", timeout=60)`` to feed its stdin.
    :param state: the project's state store (allocations are recorded there).
    :param redis_db_offset: the stack's ``redisDbOffset``: the first DB index a Redis-like preset hands to apps.
    :param plan: the whole plan of the stack (a gateway preset reads the other services and apps from it).
    :param provider: the provider instance running the service.
    :param resolve: secret store key -> value (for :meth:`request_secret`).
    """

    service: PlannedService
    project: str
    stack: str
    host: str
    ports: dict[str, int]
    secret: Callable[[str], str]
    exec: Callable[..., Awaitable[ExecResult]]
    state: Any = None
    log: Callable[[str], None] = lambda msg: None
    redis_db_offset: int = 0
    plan: Plan | None = None
    provider: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else a plugin passes along (the engine puts nothing here)."""
    resolve: Callable[[str], str] | None = None

    def request_secret(self, request: AllocationRequest, logical: str) -> str:
        """The value of a credential generated for ``request.app`` alone (see ``AppBinding.credentials``)."""
        key = request.secrets.get(logical)
        if key is None:
            raise LookupError(f"service {self.name}: app {request.app} has no generated credential {logical!r}; has: {', '.join(sorted(request.secrets)) or '(none)'}")
        if self.resolve is None:
            raise LookupError(f"service {self.name}: no secret resolver to read {key!r}")
        return self.resolve(key)

    @property
    def name(self) -> str:
        return self.service.name

    def port(self, name: str | int) -> int:
        """Host port for a port name, or for a port number as declared."""
        if isinstance(name, str) and name in self.ports:
            return self.ports[name]
        for key, target in self.service.target_ports.items():
            if str(target) == str(name):
                return self.ports[key]
        if isinstance(name, int) or str(name).isdigit():
            return int(name)
        raise KeyError(f"service {self.name} declares no port {name!r}")
