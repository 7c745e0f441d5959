#!/usr/bin/env bash
# Entrypoint with the behaviour of the official mysql image's one, for MariaDB:
# - `docker run IMAGE --opt=x` runs `mysqld --opt=x`; `--help`/`--version` run as given;
# - as root: fixes ownership of the data and socket directories, then
#   re-executes itself as the mysql user (setpriv);
# - on an empty data directory: mariadb-install-db, then a temporary server
#   listening on its unix socket only (--skip-networking) sets the root
#   password (root@localhost and root@MYSQL_ROOT_HOST, default '%'), loads
#   the time zone tables, creates MYSQL_DATABASE and MYSQL_USER, and runs
#   /docker-entrypoint-initdb.d/*;
# - an initialised data directory skips all of that;
# - finally execs the server (PID 1 is mysqld itself).
set -eo pipefail
shopt -s nullglob

mysql_log() {
    local type="$1"; shift
    local text="$*"; if [ "$#" -eq 0 ]; then text="$(cat)"; fi
    printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$text"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# usage: file_env VAR [DEFAULT]: VAR may be given as VAR_FILE (a file holding the value)
file_env() {
    local var="$1" fileVar="${1}_FILE" def="${2:-}"
    if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
        mysql_error "both $var and $fileVar are set (but are exclusive)"
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

# `mysqld --help`, `--version`, ... need no setup
_mysql_want_help() {
    local arg
    for arg; do
        case "$arg" in
        -'?' | --help | --print-defaults | -V | --version)
            return 0
            ;;
        esac
    done
    return 1
}

# a bad option or config file fails here, with the server's own message
mysql_check_config() {
    local toRun=("$@" --verbose --help) errors
    if ! errors="$("${toRun[@]}" 2>&1 >/dev/null)"; then
        mysql_error $'mysqld failed while attempting to check config\n\tcommand was: '"${toRun[*]}"$'\n\t'"$errors"
    fi
}

# usage: mysql_get_config NAME mysqld-args...: the value the server would use
mysql_get_config() {
    local conf="$1"; shift
    "$@" --verbose --help 2>/dev/null \
        | awk -v conf="$conf" '$1 == conf && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

# the socket is also reachable at the default path when the config moved it
mysql_socket_fix() {
    local defaultSocket
    defaultSocket="$(mysql_get_config 'socket' mysqld --no-defaults)"
    # (/var/run is /run: the same place under two names needs no link)
    if [ "$(realpath -m "$defaultSocket")" != "$(realpath -m "$SOCKET")" ]; then
        ln -sfTv "$SOCKET" "$defaultSocket" || :
    fi
}

docker_setup_env() {
    declare -g DATADIR SOCKET
    DATADIR="$(mysql_get_config 'datadir' "$@")"
    DATADIR="${DATADIR%/}"
    SOCKET="$(mysql_get_config 'socket' "$@")"

    file_env 'MYSQL_ROOT_HOST' '%'
    file_env 'MYSQL_DATABASE'
    file_env 'MYSQL_USER'
    file_env 'MYSQL_PASSWORD'
    file_env 'MYSQL_ROOT_PASSWORD'

    declare -g DATABASE_ALREADY_EXISTS
    if [ -d "$DATADIR/mysql" ]; then
        DATABASE_ALREADY_EXISTS='true'
    fi
}

docker_create_db_directories() {
    local user; user="$(id -u)"
    mkdir -p "$DATADIR"
    if [ "$user" = "0" ]; then
        # a bind-mounted directory may hold files of other owners
        find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
        local socketDir; socketDir="$(dirname "$SOCKET")"
        mkdir -p "$socketDir"
        find "$socketDir" \! -user mysql -exec chown mysql: '{}' +
    fi
}

docker_verify_minimum_env() {
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ] && [ -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
        mysql_error <<-'EOF'
			Database is uninitialized and password option is not specified
			    You need to specify one of the following as an environment variable:
			    - MYSQL_ROOT_PASSWORD
			    - MYSQL_ALLOW_EMPTY_PASSWORD
			    - MYSQL_RANDOM_ROOT_PASSWORD
		EOF
    fi
    if [ "$MYSQL_USER" = 'root' ]; then
        mysql_error <<-'EOF'
			MYSQL_USER="root", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user and cannot be used for the root user
			    Remove MYSQL_USER="root" and use one of the following to control the root user password:
			    - MYSQL_ROOT_PASSWORD
			    - MYSQL_ALLOW_EMPTY_PASSWORD
			    - MYSQL_RANDOM_ROOT_PASSWORD
		EOF
    fi
    if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
        mysql_warn 'MYSQL_USER specified, but missing MYSQL_PASSWORD; MYSQL_USER will not be created'
    elif [ -z "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        mysql_warn 'MYSQL_PASSWORD specified, but missing MYSQL_USER; MYSQL_PASSWORD will be ignored'
    fi
}

# the system tables, with a password-less root@localhost (only the socket-only temporary server sees it)
docker_init_database_dir() {
    mysql_note "Initializing database files"
    shift  # the server's name; its options go to mariadb-install-db, which hands them on
    mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve "$@" >/dev/null
    mysql_note "Database files initialized"
}

# usage: docker_process_sql [--dont-use-mysql-root-password] [mysql-cli-args]
# (the password goes through MYSQL_PWD, so any character works and none shows in ps)
docker_process_sql() {
    local password="$MYSQL_ROOT_PASSWORD"
    if [ '--dont-use-mysql-root-password' = "${1:-}" ]; then
        password=''
        shift
    fi
    if [ -n "$MYSQL_DATABASE" ]; then
        set -- --database="$MYSQL_DATABASE" "$@"
    fi
    MYSQL_PWD="$password" mysql --protocol=socket -uroot -hlocalhost --socket="$SOCKET" --comments "$@"
}

docker_temp_server_start() {
    "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" &
    declare -g MYSQL_TEMP_PID=$!
    mysql_note "Waiting for server startup"
    local i
    for i in {300..0}; do
        # no --database: MYSQL_DATABASE does not exist yet
        if MYSQL_DATABASE='' docker_process_sql --dont-use-mysql-root-password --database=mysql <<<'SELECT 1' &>/dev/null; then
            break
        fi
        if ! kill -0 "$MYSQL_TEMP_PID" 2>/dev/null; then
            mysql_error "Unable to start server."
        fi
        sleep 0.1
    done
    if [ "$i" = 0 ]; then
        mysql_error "Unable to start server."
    fi
    mysql_note "Temporary server started."
}

docker_temp_server_stop() {
    mysql_note "Stopping temporary server"
    MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysqladmin shutdown -uroot --socket="$SOCKET"
    wait "$MYSQL_TEMP_PID" || :
    mysql_note "Temporary server stopped"
}

# usage: docker_sql_escape_string_literal STRING: STRING safe inside '...'
docker_sql_escape_string_literal() {
    local newline=$'\n'
    local escaped=${1//\\/\\\\}
    escaped="${escaped//$newline/\\n}"
    echo "${escaped//\'/\\\'}"
}

docker_setup_db() {
    if [ -z "$MYSQL_INITDB_SKIP_TZINFO" ]; then
        mysql_note "Loading time zone tables"
        mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null \
            | MYSQL_DATABASE='' docker_process_sql --dont-use-mysql-root-password --database=mysql
    fi
    if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
        MYSQL_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64)"
        export MYSQL_ROOT_PASSWORD
        mysql_note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi
    local rootPassword rootCreate=
    rootPassword="$(docker_sql_escape_string_literal "$MYSQL_ROOT_PASSWORD")"
    if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != 'localhost' ]; then
        rootCreate="CREATE USER 'root'@'${MYSQL_ROOT_HOST}' IDENTIFIED BY '${rootPassword}' ;
            GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION ;
            GRANT PROXY ON ''@'%' TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION ;"
    fi
    # mariadb-install-db made root@127.0.0.1, root@::1 and root@<hostname> without a password: only root@localhost stays
    MYSQL_DATABASE='' docker_process_sql --dont-use-mysql-root-password --database=mysql <<-EOSQL
		SET autocommit = 1;
		SET @@SESSION.SQL_LOG_BIN=0;
		DELETE FROM mysql.global_priv WHERE Host <> 'localhost' ;
		DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost' ;
		FLUSH PRIVILEGES ;
		ALTER USER 'root'@'localhost' IDENTIFIED BY '${rootPassword}' ;
		GRANT ALL ON *.* TO 'root'@'localhost' WITH GRANT OPTION ;
		${rootCreate}
		DROP DATABASE IF EXISTS test ;
	EOSQL

    if [ -n "$MYSQL_DATABASE" ]; then
        mysql_note "Creating database ${MYSQL_DATABASE}"
        MYSQL_DATABASE='' docker_process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\` ;"
    fi
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        mysql_note "Creating user ${MYSQL_USER}"
        local userPassword
        userPassword="$(docker_sql_escape_string_literal "$MYSQL_PASSWORD")"
        MYSQL_DATABASE='' docker_process_sql --database=mysql <<<"CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$userPassword' ;"
        if [ -n "$MYSQL_DATABASE" ]; then
            mysql_note "Giving user ${MYSQL_USER} access to schema ${MYSQL_DATABASE}"
            # `_` is a wildcard in GRANT's database name: escaped, it means itself
            MYSQL_DATABASE='' docker_process_sql --database=mysql <<<"GRANT ALL ON \`${MYSQL_DATABASE//_/\\_}\`.* TO '$MYSQL_USER'@'%' ;"
        fi
    fi
}

# usage: docker_process_init_files [file [file [...]]]
docker_process_init_files() {
    # "${mysql[@]}" is for sourced *.sh init scripts (as in the official image)
    # shellcheck disable=SC2034
    mysql=(docker_process_sql)
    echo
    local f
    for f; do
        case "$f" in
        *.sh)
            if [ -x "$f" ]; then
                mysql_note "$0: running $f"
                "$f"
            else
                mysql_note "$0: sourcing $f"
                # shellcheck disable=SC1090
                . "$f"
            fi
            ;;
        *.sql)     mysql_note "$0: running $f"; docker_process_sql <"$f"; echo ;;
        *.sql.bz2) mysql_note "$0: running $f"; bunzip2 -c "$f" | docker_process_sql; echo ;;
        *.sql.gz)  mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
        *.sql.xz)  mysql_note "$0: running $f"; xzcat "$f" | docker_process_sql; echo ;;
        *.sql.zst) mysql_note "$0: running $f"; zstd -dc "$f" | docker_process_sql; echo ;;
        *)         mysql_warn "$0: ignoring $f" ;;
        esac
        echo
    done
}

# MYSQL_ONETIME_PASSWORD: root must choose a new password at its first login
mysql_expire_root_user() {
    if [ -n "$MYSQL_ONETIME_PASSWORD" ]; then
        docker_process_sql --database=mysql <<-EOSQL
			ALTER USER 'root'@'%' PASSWORD EXPIRE;
		EOSQL
    fi
}

_main() {
    # first arg is `-f` or `--some-option`
    if [ "${1:0:1}" = '-' ]; then
        set -- mysqld "$@"
    fi

    if { [ "$1" = 'mysqld' ] || [ "$1" = 'mariadbd' ]; } && ! _mysql_want_help "$@"; then
        mysql_note "Entrypoint script for MySQL Server (MariaDB stand-in) started."
        mysql_check_config "$@"
        docker_setup_env "$@"
        docker_create_db_directories
        if [ "$(id -u)" = "0" ]; then
            mysql_note "Switching to dedicated user 'mysql'"
            exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
        fi

        if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
            docker_verify_minimum_env
            # an unreadable init directory gives a clear error here
            ls /docker-entrypoint-initdb.d/ >/dev/null

            docker_init_database_dir "$@"
            mysql_note "Starting temporary server"
            docker_temp_server_start "$@"
            mysql_socket_fix
            docker_setup_db
            docker_process_init_files /docker-entrypoint-initdb.d/*
            mysql_expire_root_user
            docker_temp_server_stop
            echo
            mysql_note "MySQL init process done. Ready for start up."
            echo
        else
            mysql_socket_fix
        fi
    fi
    exec "$@"
}

if ! _is_sourced; then
    _main "$@"
fi
