"""Client tools run where the service runs (its container, or beside its process).

One shell script serves both: it picks MariaDB's name of the tool or
MySQL's (``mariadb``/``mysql``, ``mariadb-dump``/``mysqldump``), and takes
the password from the container's own ``MYSQL_ROOT_PASSWORD``, so it is on
no command line. Beside a native process there is no such variable: the
tool connects over the service's private socket as the account the server
runs as (``unix_socket``), which the provider's exec runs it as, and reads
no option file (the machine's ``/etc/mysql`` belongs to its own server).
"""

from __future__ import annotations

from collections.abc import Sequence

TOOLS = {"mysql": "mariadb", "mysqldump": "mariadb-dump"}

_FIND = (
    'bin=$(command -v "$1" || command -v "$2") || { echo "neither $1 nor $2 is installed where the service runs" >&2; exit 127; }; '
    "shift 2; "
    'if [ -n "${MYSQL_ROOT_PASSWORD:-}" ]; then export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"; fi; '
    # beside a native server (its exec env names its socket): no option file of the machine's own server
    'if [ -n "${MYSQL_UNIX_PORT:-}" ]; then set -- --no-defaults --socket="$MYSQL_UNIX_PORT" "$@"; fi; '
)
RUN = _FIND + 'exec "$bin" "$@"'
RUN_QUIET = _FIND + 'err=$(mktemp) || exit 1; "$bin" "$@" 2>"$err"; rc=$?; [ "$rc" -eq 0 ] || cat "$err"; rm -f "$err"; exit "$rc"'
"""As :data:`RUN`, but the tool's warnings are shown only when it fails (the provider merges them into its output)."""


def in_service(provider: str, tool: str, args: Sequence[str], *, quiet: bool = False) -> list[str]:
    """The argv running ``tool`` (``mysql``, ``mysqldump``) with ``args`` where a ``provider`` runs the service."""
    user = ["--user=root"] if provider == "docker" else []
    return ["sh", "-c", RUN_QUIET if quiet else RUN, tool, TOOLS[tool], tool, *user, *args]
