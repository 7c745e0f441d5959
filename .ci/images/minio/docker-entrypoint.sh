#!/bin/bash
# MinIO's command line on SeaweedFS: `[minio] server DIR [--address ADDR] [--console-address ADDR]`.
# Runs `weed mini` and, once its volume server is known, the nginx front; stops both on SIGTERM, and
# exits when either exits.
set -euo pipefail

[ "${1:-}" = minio ] && shift
if [ "${1:-}" != server ]; then
    exec "$@"
fi
shift
data=/data address=:9000 console=:9001
while [ $# -gt 0 ]; do
    case "$1" in
        --address) address=$2; shift 2 ;;
        --address=*) address=${1#*=}; shift ;;
        --console-address) console=$2; shift 2 ;;
        --console-address=*) console=${1#*=}; shift ;;
        -*) echo "docker-entrypoint: option $1 is not supported by this stand-in" >&2; exit 2 ;;
        *) data=$1; shift ;;
    esac
done
if [ -z "${MINIO_ROOT_USER:-}" ] || [ "${#MINIO_ROOT_PASSWORD}" -lt 8 ] 2>/dev/null; then
    echo "docker-entrypoint: set MINIO_ROOT_USER and MINIO_ROOT_PASSWORD (8 characters or more)" >&2
    exit 1
fi
mkdir -p "$data/master"
sed -e "s/@API_PORT@/${address##*:}/" -e "s/@CONSOLE_PORT@/${console##*:}/" /etc/omnitron-s3/nginx.conf.in >/run/omnitron-s3-nginx.conf

# the root identity reaches weed through its environment only (no argument, no file)
AWS_ACCESS_KEY_ID=$MINIO_ROOT_USER AWS_SECRET_ACCESS_KEY=$MINIO_ROOT_PASSWORD weed mini \
    -dir="$data" -master.dir="$data/master" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    -s3.port=8333 -s3.port.grpc=18333 -master.port=9333 -master.port.grpc=19333 \
    -volume.port=8080 -volume.port.grpc=18080 -filer.port=8888 -filer.port.grpc=18888 \
    -admin.port=23646 -admin.port.grpc=33646 -admin.ui=false \
    -s3.iam.readOnly=false -s3.autoCreateBucket=false -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false &
weed=$!
trap 'kill -TERM "$weed" 2>/dev/null; wait "$weed"; exit 143' TERM INT

# SeaweedFS's S3 gateway answers before its volume server has told the master which volumes it holds
# (reading a stored object fails until then): the front, and so the health path, opens only after that
volume_server_known() {
    local reply
    exec 3<>/dev/tcp/127.0.0.1/9333 || return 1
    printf 'GET /dir/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    reply=$(cat <&3)
    exec 3<&-
    [[ $reply == *'"DataNodes":[{'* ]]
}
until volume_server_known 2>/dev/null; do
    kill -0 "$weed" 2>/dev/null || { wait "$weed"; exit $?; }
    sleep 0.2
done

nginx -c /run/omnitron-s3-nginx.conf -g 'daemon off;' &
front=$!

trap 'kill -TERM "$weed" "$front" 2>/dev/null || true' TERM INT
set +e
wait -n "$weed" "$front"
status=$?
kill -TERM "$weed" "$front" 2>/dev/null
wait "$weed"
wait "$front"
exit "$status"
