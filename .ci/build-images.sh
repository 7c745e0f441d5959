#!/usr/bin/env bash
# Build the local test images (no registry needed):
#
#   omnitron-test/debian:bookworm   debootstrap minbase (images/base.sh)
#   omnitron-test/postgres:15       images/postgres/  (official postgres contract)
#   omnitron-test/redis:7           images/redis/     (official redis contract)
#   omnitron-test/mysql:8.4         images/mysql/     (official mysql contract, on MariaDB)
#   omnitron-test/tor:0.4           images/tor/       (the contract the tor preset's image follows)
#   omnitron-test/memcached:1.6     images/memcached/ (official memcached contract; the example preset's)
#   omnitron-test/openresty:1.27    images/openresty/ (official openresty/openresty contract, on Debian nginx + Lua)
#
#   bash .ci/build-images.sh            # build what changed
#   bash .ci/build-images.sh --force    # rebuild everything
#   VERBOSE=1 bash .ci/build-images.sh  # stream build output
#   ONLY=postgres,redis bash .ci/build-images.sh  # just these images/<name>/
#
# Every images/<name>/ holding a Dockerfile is built, tagged with the one line
# in images/<name>/tag; Dockerfiles build FROM the base image ($BASE_TAG).
#
# Each image carries the label omnitron.test.hash = sha256 over its build
# files (and its base image's hash); an image whose tag already carries the
# current hash is not rebuilt, so a rerun with nothing changed takes about a
# second. Starts the Docker engine first (docker-up.sh) when needed.
set -euo pipefail
cd "$(dirname "$0")"

LABEL=omnitron.test.hash
export BASE_TAG=${BASE_TAG:-omnitron-test/debian:bookworm}
PG_TAG=${PG_TAG:-omnitron-test/postgres:15}
REDIS_TAG=${REDIS_TAG:-omnitron-test/redis:7}
FORCE=0
[ "${1:-}" = --force ] && FORCE=1
ONLY=${ONLY:-}   # comma-separated image directory names to build (default: all)
# legacy builder: Debian's docker.io (20.10) has no buildx plugin
export DOCKER_BUILDKIT=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
say() { printf 'build-images: %s\n' "$*"; }

T0=$(now)

t=$(now)
if ! docker info >/dev/null 2>&1; then
    bash ./docker-up.sh
fi
say "docker engine ready ($(elapsed "$t"))"

# sha256 over the names, modes and contents of the given files/directories
# (paths relative to .ci/), plus any extra strings given on stdin
content_hash() {
    {
        cat
        find "$@" -type f -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
            printf '%s %s %s\n' "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
        done
    } | sha256sum | cut -d' ' -f1
}

image_hash() { docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }

# the host's apt sources end up in the base image: a change rebuilds it
host_apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && { printf '%s\n' "$f"; cat "$f"; }
    done
    return 0
}

# hosts of the apt mirrors that /etc/hosts pins: the build containers
# get the same address (they do not see the host's /etc/hosts)
add_host_args=()
while read -r host; do
    ip=$(awk -v h="$host" '$1 !~ /^#/ { for (i = 2; i <= NF; i++) if ($i == h) { print $1; exit } }' /etc/hosts)
    [ -n "$ip" ] && add_host_args+=(--add-host "$host:$ip")
done < <(host_apt_sources | grep -oE '(https?)://[^/ ]+' | sed -E 's#^[a-z]+://##; s#:.*##' | sort -u)

build_log_dir=$(mktemp -d "${TMPDIR:-/tmp}/omnitron-build.XXXXXX")
trap 'rm -rf "$build_log_dir"' EXIT

run_logged() {   # name cmd...
    local name=$1; shift
    if [ "${VERBOSE:-0}" = 1 ]; then
        "$@"
        return
    fi
    if ! "$@" >"$build_log_dir/$name.log" 2>&1; then
        say "$name: FAILED; last lines of its output:"
        tail -n 60 "$build_log_dir/$name.log"
        return 1
    fi
}

# ---------------------------------------------------------------- base
t=$(now)
BASE_HASH=$(host_apt_sources | content_hash images/base.sh)
if [ "$FORCE" = 0 ] && [ "$(image_hash "$BASE_TAG")" = "$BASE_HASH" ]; then
    say "$BASE_TAG: up to date (${BASE_HASH:0:12}, $(elapsed "$t"))"
else
    say "$BASE_TAG: building (${BASE_HASH:0:12})..."
    run_logged base bash images/base.sh "$BASE_HASH"
    say "$BASE_TAG: built in $(elapsed "$t")"
fi

# ---------------------------------------------------------------- images
build_image() {   # tag dir
    local tag=$1 dir=$2 t hash
    t=$(now)
    hash=$(echo "base $BASE_HASH" | content_hash "$dir")
    if [ "$FORCE" = 0 ] && [ "$(image_hash "$tag")" = "$hash" ]; then
        say "$tag: up to date (${hash:0:12}, $(elapsed "$t"))"
        return
    fi
    say "$tag: building (${hash:0:12})..."
    run_logged "$(basename "$dir")" \
        docker build --pull=false --label "$LABEL=$hash" "${add_host_args[@]}" -t "$tag" "$dir"
    say "$tag: built in $(elapsed "$t")"
}

# every images/<name>/ with a Dockerfile is an image; its tag is in images/<name>/tag
# (one line, e.g. omnitron-test/postgres:15). Adding an image is adding a directory.
for dir in images/*/; do
    dir=${dir%/}
    [ -f "$dir/Dockerfile" ] || continue
    [ -n "$ONLY" ] && [[ ",$ONLY," != *",$(basename "$dir"),"* ]] && continue
    case "$(basename "$dir")" in
        postgres) tag=$PG_TAG ;;
        redis) tag=$REDIS_TAG ;;
        *) tag=$(tr -d ' \n' <"$dir/tag") ;;
    esac
    build_image "$tag" "$dir"
done

# drop superseded (now untagged) builds of these images
docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true

say "all images ready in $(elapsed "$T0")"
