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
the statement is not logged.
"""

from __future__ import annotations

from collections.abc import Mapping

from omnitron.api import DataTemplate

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
    credential_env=("POSTGRES_PASSWORD",),
    data_env="PGDATA",
    refuse=refuse,
    # the free-space and visibility maps: made again when missing (a quarter of a new data directory's files)
    rebuilt_files=("base/*/*_fsm", "base/*/*_vm", "global/*_fsm", "global/*_vm"),
)
