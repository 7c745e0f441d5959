#!/bin/sh
# `openresty` of the stand-in image: Debian's nginx with the modules OpenResty has built in (the NDK and Lua)
# loaded first, and OpenResty's prefix and main file unless the command line names others. Every other
# argument (-t, -s reload, -v, -g ...) means what it means to openresty; a -g is kept after the modules.
set -eu
modules="load_module /usr/lib/nginx/modules/ndk_http_module.so; load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
globals=$modules
prefix=
conf=
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    case $arg in
        -g|-c|-p)
            [ "$n" -gt 0 ] || { echo "openresty: option $arg needs a value" >&2; exit 1; }
            value=$1
            shift
            n=$((n - 1))
            case $arg in
                -g) globals="$modules $value" ;;
                -c) conf=$value ;;
                -p) prefix=$value ;;
            esac
            ;;
        *) set -- "$@" "$arg" ;;
    esac
done
exec /usr/sbin/nginx -p "${prefix:-/usr/local/openresty/nginx/}" -c "${conf:-/usr/local/openresty/nginx/conf/nginx.conf}" -g "$globals" "$@"
