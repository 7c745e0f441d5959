"""The Postgres data directory as a cached template (see :class:`omnitron.api.DataTemplate`).

The image's entrypoint runs ``initdb`` only on an empty ``PGDATA``: a volume
seeded with an initialised one starts in a fraction of the time. The
template was initialised with a random superuser password that nobody
knows; once the seeded server runs, :data:`ADOPT_SCRIPT` (run inside the
container, with its env) sets ``POSTGRES_PASSWORD`` as the password of
``POSTGRES_USER`` over the server's local socket, where ``initdb``'s default
``trust`` applies, trying again every 20 ms while the server cannot be
reached yet (one ``psql`` a try, no separate readiness probe). The password
travels through the container's env and a pipe, never a command line, and
the statement is not logged. Where the container's root can be reached from
here, :func:`adopt_from_host` does the same over that socket, without
starting ``sh`` and ``psql`` in the container.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from omnitron.api import DataTemplate

SOCKET_DIR = "/var/run/postgresql"
"""Where the image's server puts its Unix socket, in the container."""
STARTING_UP = ("57P03",)
"""SQLSTATE of a server that does not accept connections yet (starting up): tried again."""

ADOPT_SCRIPT = r"""
u="${POSTGRES_USER:-postgres}"
user=$(printf '%s' "$u" | sed 's/"/""/g')
password=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
n=0
up=0
while :; do
    err=$(printf "SET log_statement = 'none';\nALTER ROLE \"%s\" PASSWORD '%s';\n" "$user" "$password" | psql -v ON_ERROR_STOP=1 -X -q -U "$u" -d postgres 2>&1) && exit 0
    code=$?
    n=$((n + 1))
    # psql exits 2 when it cannot connect: tried again until the server accepted connections before a try
    if [ "$code" -ne 2 ] || [ "$up" = 1 ] || [ "$n" -ge 3000 ]; then
        printf '%s\n' "$err" >&2
        exit "$code"
    fi
    if pg_isready -q -U "$u" -d postgres; then up=1; else sleep 0.02; fi
done
"""


async def adopt_from_host(resolve: Callable[[str], Path], env: Mapping[str, str], timeout: float) -> None:
    """:data:`ADOPT_SCRIPT` done from this side: over the server's Unix socket in the container (``resolve``
    gives its path here; ``trust`` applies there), as soon as it accepts connections, set ``POSTGRES_PASSWORD``
    as the password of ``POSTGRES_USER`` (as a SCRAM verifier: the server never sees the password; the
    statement is not logged).

    :raises OSError: no server accepted a connection there within ``timeout``; :raises PgError: it refused.
    """
    import stat

    from omnitron.api import poll_attempts

    from .wire import PgError, connect, quote_ident, quote_literal, scram_verifier

    user = env.get("POSTGRES_USER") or "postgres"
    verifier = scram_verifier(env["POSTGRES_PASSWORD"])
    port = int(env.get("PGPORT") or 5432)
    last: Exception | None = None
    async for attempt in poll_attempts(timeout, first=0.005, cap=0.005):
        try:
            socket_dir = resolve(SOCKET_DIR)
            if not stat.S_ISSOCK((socket_dir / f".s.PGSQL.{port}").lstat().st_mode):
                raise FileNotFoundError(f"{socket_dir}/.s.PGSQL.{port} is not a socket")
            conn = await connect(str(socket_dir), port, user=user, password=None, dbname="postgres", timeout=max(0.5, attempt.remaining))
            break
        except (OSError, PgError) as exc:  # no socket yet, or the server is still starting: again, until the deadline
            if isinstance(exc, PgError) and exc.code not in STARTING_UP:
                raise
            last = exc
    else:
        assert last is not None
        raise last
    async with conn:
        await conn.execute("SET log_statement TO 'none'")
        await conn.execute(f"ALTER ROLE {quote_ident(user)} PASSWORD {quote_literal(verifier)}")


def refuse(env: Mapping[str, str]) -> str | None:
    """Why a template cannot stand in for the entrypoint's own initialisation with this env, or ``None``."""
    if not env.get("POSTGRES_PASSWORD"):
        return "no POSTGRES_PASSWORD to set"
    if any(key.startswith("POSTGRES_") and key.endswith("_FILE") for key in env):
        return "settings are read from files"
    if env.get("POSTGRES_INITDB_WALDIR"):
        return "the WAL lives outside the data volume"
    if "auth" in env.get("POSTGRES_INITDB_ARGS", ""):
        return "initdb sets its own authentication (the local socket may not trust the superuser)"
    return None


DATA_TEMPLATE = DataTemplate(
    volume="data",
    ready_logs=("PostgreSQL init process complete", "database system is ready to accept connections"),
    adopt=("sh", "-c", ADOPT_SCRIPT),
    adopt_from_host=adopt_from_host,
    credential_env=("POSTGRES_PASSWORD",),
    data_env="PGDATA",
    refuse=refuse,
    # the free-space and visibility maps: made again when missing (a quarter of a new data directory's files)
    rebuilt_files=("base/*/*_fsm", "base/*/*_vm", "global/*_fsm", "global/*_vm"),
)
