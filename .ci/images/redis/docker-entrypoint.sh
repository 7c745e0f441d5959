#!/bin/sh
# Entrypoint with the behaviour of the official redis image's one.
set -e

# first arg is `-f` or `--some-option`, or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
    # The official image's redis-server is built with protected-mode off by
    # default; Debian's has it on. Turn it off unless the command line (or
    # the config file, when one is given) sets it. Without a config file the
    # server binds every interface, as the official image's does.
    # A config file, when given, is the first argument ("-" is stdin).
    case "${2:-}" in
    -v | --version | -h | --help | --test-memory | --check-system | --protected-mode | -) ;;
    '' | --*)
        shift
        set -- redis-server --protected-mode no "$@"
        ;;
    *)
        if [ "${3:-}" != --protected-mode ] && [ -r "$2" ] \
            && ! grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$2"; then
            conf=$2
            shift 2
            set -- redis-server "$conf" --protected-mode no "$@"
        fi
        ;;
    esac

    # allow the container to be started with `--user`
    if [ "$(id -u)" = '0' ]; then
        find . \! -user redis -exec chown redis '{}' +
        exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
    fi
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
    umask 0077
fi

exec "$@"
