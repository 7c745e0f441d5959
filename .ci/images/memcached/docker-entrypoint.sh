#!/bin/sh
# Options alone (`docker run IMAGE -m 64`) run memcached with them, as the official image does.
set -e
case "${1:-}" in
-*) set -- memcached "$@" ;;
esac
exec "$@"
