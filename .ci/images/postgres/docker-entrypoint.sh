#!/usr/bin/env bash
# Entrypoint with the behaviour of the official postgres image's one:
# - `docker run IMAGE -c x=y` runs `postgres -c x=y`;
# - as root: fixes ownership of PGDATA and the socket dir, then re-executes
#   itself as the postgres user (setpriv);
# - on an empty PGDATA: initdb (superuser POSTGRES_USER, password
#   POSTGRES_PASSWORD), `host all all all <scram-sha-256>` in pg_hba.conf,
#   creates POSTGRES_DB, runs /docker-entrypoint-initdb.d/*, all on a
#   temporary server listening on the unix socket only;
# - an already initialised PGDATA skips all of that;
# - finally execs the server (PID 1 is postgres itself).
set -Eeo pipefail

# usage: file_env VAR [DEFAULT]
# lets VAR be given as VAR_FILE (a path to a file holding the value)
file_env() {
    local var="$1" fileVar="${1}_FILE" def="${2:-}"
    if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
        printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
        exit 1
    fi
    local val="$def"
    if [ "${!var:-}" ]; then
        val="${!var}"
    elif [ "${!fileVar:-}" ]; then
        val="$(<"${!fileVar}")"
    fi
    export "$var"="$val"
    unset "$fileVar"
}

# was this script sourced (by a test) rather than executed?
_is_sourced() {
    [ "${#FUNCNAME[@]}" -ge 2 ] \
        && [ "${FUNCNAME[0]}" = '_is_sourced' ] \
        && [ "${FUNCNAME[1]}" = 'source' ]
}

docker_create_db_directories() {
    local user; user="$(id -u)"

    mkdir -p "$PGDATA"
    # ignore failure: a bind-mounted directory may belong to someone else
    chmod 00700 "$PGDATA" || :

    mkdir -p /var/run/postgresql || :
    chmod 03775 /var/run/postgresql || :

    if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
        mkdir -p "$POSTGRES_INITDB_WALDIR"
        if [ "$user" = '0' ]; then
            find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
        fi
        chmod 700 "$POSTGRES_INITDB_WALDIR"
    fi

    if [ "$user" = '0' ]; then
        find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
        find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
    fi
}

docker_init_database_dir() {
    # initdb wants the running uid to have a passwd entry
    local uid; uid="$(id -u)"
    if ! getent passwd "$uid" >/dev/null 2>&1; then
        local wrapper
        for wrapper in {/usr,}/lib{/*/,/}libnss_wrapper.so; do
            if [ -s "$wrapper" ]; then
                NSS_WRAPPER_PASSWD="$(mktemp)"
                NSS_WRAPPER_GROUP="$(mktemp)"
                export LD_PRELOAD="$wrapper" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
                local gid; gid="$(id -g)"
                printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$uid" "$gid" "$PGDATA" >"$NSS_WRAPPER_PASSWD"
                printf 'postgres:x:%s:\n' "$gid" >"$NSS_WRAPPER_GROUP"
                break
            fi
        done
    fi

    if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
        set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"
    fi

    # --pwfile refuses to handle a properly-empty file (hence the "\n")
    # shellcheck disable=SC2086
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "$@"'

    if [[ "${LD_PRELOAD:-}" == */libnss_wrapper.so ]]; then
        rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
        unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    fi
}

docker_verify_minimum_env() {
    if [ "${#POSTGRES_PASSWORD}" -ge 100 ]; then
        cat >&2 <<-'EOWARN'

			WARNING: The supplied POSTGRES_PASSWORD is 100+ characters.

			  This will not work if used via PGPASSWORD with "psql".

		EOWARN
    fi
    if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
        cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.

		EOE
        exit 1
    fi
    if [ 'trust' = "$POSTGRES_HOST_AUTH_METHOD" ]; then
        cat >&2 <<-'EOWARN'
			********************************************************************************
			WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust". This will allow
			         anyone with access to the Postgres port to access your database without
			         a password, even if POSTGRES_PASSWORD is set.
			********************************************************************************
		EOWARN
    fi
}

# usage: docker_process_init_files [file [file [...]]]
docker_process_init_files() {
    # "${psql[@]}" is for sourced *.sh init scripts (as in the official image)
    # shellcheck disable=SC2034
    psql=(docker_process_sql)

    printf '\n'
    local f
    for f; do
        case "$f" in
        *.sh)
            if [ -x "$f" ]; then
                printf '%s: running %s\n' "$0" "$f"
                "$f"
            else
                printf '%s: sourcing %s\n' "$0" "$f"
                # shellcheck disable=SC1090
                . "$f"
            fi
            ;;
        *.sql)     printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f"; printf '\n' ;;
        *.sql.gz)  printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | docker_process_sql; printf '\n' ;;
        *.sql.xz)  printf '%s: running %s\n' "$0" "$f"; xzcat "$f" | docker_process_sql; printf '\n' ;;
        *.sql.zst) printf '%s: running %s\n' "$0" "$f"; zstd -dc "$f" | docker_process_sql; printf '\n' ;;
        *)         printf '%s: ignoring %s\n' "$0" "$f" ;;
        esac
        printf '\n'
    done
}

# usage: docker_process_sql [psql-cli-args]
#    ie: docker_process_sql --dbname=mydb <<<'INSERT ...'
#    ie: docker_process_sql -f my-file.sql
#    ie: docker_process_sql <my-file.sql
docker_process_sql() {
    local query_runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [ -n "$POSTGRES_DB" ]; then
        query_runner+=(--dbname "$POSTGRES_DB")
    fi
    PGHOST='' PGHOSTADDR='' "${query_runner[@]}" "$@"
}

# create POSTGRES_DB unless it is "postgres" or already exists
docker_setup_db() {
    # POSTGRES_DB='' only for the call; db= still gets the real name
    local dbAlreadyExists
    # shellcheck disable=SC2097,SC2098
    dbAlreadyExists="$(
        POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
			SELECT 1 FROM pg_database WHERE datname = :'db' ;
		EOSQL
    )"
    if [ -z "$dbAlreadyExists" ]; then
        # shellcheck disable=SC2097,SC2098
        POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
        printf '\n'
    fi
}

# defaults and exports used by the rest of the script
docker_setup_env() {
    file_env 'POSTGRES_PASSWORD'
    file_env 'POSTGRES_USER' 'postgres'
    file_env 'POSTGRES_DB' "$POSTGRES_USER"
    file_env 'POSTGRES_INITDB_ARGS'
    : "${POSTGRES_HOST_AUTH_METHOD:=}"

    declare -g DATABASE_ALREADY_EXISTS
    : "${DATABASE_ALREADY_EXISTS:=}"
    # look specifically for PG_VERSION: a lone lost+found is not a database
    if [ -s "$PGDATA/PG_VERSION" ]; then
        DATABASE_ALREADY_EXISTS='true'
    fi
}

# append the POSTGRES_HOST_AUTH_METHOD rule to pg_hba.conf
pg_setup_hba_conf() {
    # default: what password_encryption says (scram-sha-256 on 15)
    if [ "$1" = 'postgres' ]; then
        shift
    fi
    local auth
    auth="$(postgres -C password_encryption "$@")"
    : "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
    {
        printf '\n'
        if [ 'trust' = "$POSTGRES_HOST_AUTH_METHOD" ]; then
            printf '# warning trust is enabled for all connections\n'
            printf '# see https://www.postgresql.org/docs/12/auth-trust.html\n'
        fi
        printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
    } >>"$PGDATA/pg_hba.conf"
}

# temporary server for the init steps: unix socket only, nothing on TCP
docker_temp_server_start() {
    if [ "$1" = 'postgres' ]; then
        shift
    fi
    # internal start of server in order to allow setup using psql client
    # does not listen on external TCP/IP and waits until start finishes
    set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"

    PGUSER="${PGUSER:-$POSTGRES_USER}" \
        pg_ctl -D "$PGDATA" \
        -o "$(printf '%q ' "$@")" \
        -w start
}

docker_temp_server_stop() {
    PGUSER="${PGUSER:-postgres}" \
        pg_ctl -D "$PGDATA" -m fast -w stop
}

# `postgres --help`, `-V`, `-C x`, ... need no setup
_pg_want_help() {
    local arg
    for arg; do
        case "$arg" in
        -'?' | --help | --describe-config | -V | --version)
            return 0
            ;;
        esac
    done
    return 1
}

_main() {
    # first arg is `-f` or `--some-option`
    if [ "${1:0:1}" = '-' ]; then
        set -- postgres "$@"
    fi

    if [ "$1" = 'postgres' ] && ! _pg_want_help "$@"; then
        docker_setup_env
        docker_create_db_directories
        if [ "$(id -u)" = '0' ]; then
            # restart this script as the postgres user
            exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
        fi

        if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
            docker_verify_minimum_env

            # an unreadable/unwritable PGDATA gives a clear error here
            ls /docker-entrypoint-initdb.d/ >/dev/null

            docker_init_database_dir
            pg_setup_hba_conf "$@"

            # PGPASSWORD is needed by psql when POSTGRES_HOST_AUTH_METHOD is
            # not trust (e.g. when unix socket auth was changed by an initdb arg)
            export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
            docker_temp_server_start "$@"

            docker_setup_db
            docker_process_init_files /docker-entrypoint-initdb.d/*

            docker_temp_server_stop
            unset PGPASSWORD

            printf '\nPostgreSQL init process complete; ready for start up.\n\n'
        else
            printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
        fi
    fi

    exec "$@"
}

if ! _is_sourced; then
    _main "$@"
fi
