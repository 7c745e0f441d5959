#!/usr/bin/env bash
# Build the minimal Debian bookworm base image for the local test images.
#
#   bash .ci/images/base.sh [HASH]
#
# debootstrap --variant=minbase from the host's own apt mirror, then
# `docker import` as $BASE_TAG (default omnitron-test/debian:bookworm).
# HASH, when given, is stored as the image label omnitron.test.hash
# (build-images.sh uses it to skip rebuilding an unchanged image).
# The host's apt sources (and its Acquire:: settings, e.g. proxies or
# Check-Valid-Until) are copied into the image so `apt-get install` works
# in RUN steps of the images built on top of it.
set -euo pipefail

TAG=${BASE_TAG:-omnitron-test/debian:bookworm}
SUITE=bookworm
HASH=${1:-}

say() { printf 'base: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
docker info >/dev/null 2>&1 || die "docker is not running (run .ci/docker-up.sh)"

if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debootstrap \
        || { apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap; }
fi

# ---------------------------------------------------------------- mirror
# The first Debian (not -security) URI the host uses for $SUITE.
host_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
    return 0
}

find_mirror() {
    local f
    while read -r f; do
        case "$f" in
        *.sources)
            # deb822: stanzas separated by blank lines
            awk -v suite="$SUITE" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uri != "" && !done) {
                        n = split(uri, u, " "); print u[1]; done = 1
                    }
                    types = ""; suites = ""; uri = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                tolower($1) == "types:"  { $1 = ""; types = $0 }
                tolower($1) == "uris:"   { $1 = ""; uri = $0; sub(/^ +/, "", uri) }
                tolower($1) == "suites:" { $1 = ""; suites = $0 }
                END { flush() }' "$f"
            ;;
        *)
            awk -v suite="$SUITE" '
                $1 == "deb" {
                    i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit }
                }' "$f"
            ;;
        esac
    done < <(host_sources) | head -n 1
}

MIRROR=${DEBIAN_MIRROR:-$(find_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
say "mirror: $MIRROR"

# ---------------------------------------------------------------- debootstrap
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/omnitron-base.XXXXXX")
cleanup() { rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT
ROOT=$WORK/rootfs

keyring_args=()
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] \
    && keyring_args=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)

if ! debootstrap --variant=minbase "${keyring_args[@]}" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 40 "$WORK/debootstrap.log" >&2
    [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 40 "$ROOT/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi

# ---------------------------------------------------------------- apt config
rm -f "$ROOT/etc/apt/sources.list"
mkdir -p "$ROOT/etc/apt/sources.list.d" "$ROOT/etc/apt/apt.conf.d"
while read -r f; do
    cp "$f" "$ROOT$f"
    # keyrings named by Signed-By (files only), when the image lacks them
    grep -hoiE 'signed-by[:=] *[^] ]+' "$f" | sed -E 's/^[^:=]*[:=] *//' | while read -r key; do
        if [ "${key#/}" != "$key" ] && [ -f "$key" ] && [ ! -e "$ROOT$key" ]; then
            mkdir -p "$ROOT$(dirname "$key")"
            cp "$key" "$ROOT$key"
        fi
    done
done < <(host_sources)
# Acquire:: settings (proxy, Check-Valid-Until for snapshot mirrors, ...)
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    if grep -q 'Acquire::' "$f" && ! grep -qi 'invoke' "$f"; then
        cp "$f" "$ROOT/etc/apt/apt.conf.d/$(basename "$f")"
    fi
done

# Container-friendly settings (as the classic Debian image builds do):
# never start services from maintainer scripts,
cat >"$ROOT/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
# no fsync during package installs,
echo 'force-unsafe-io' >"$ROOT/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
# no docs/man pages/translations,
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker-excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
# no downloaded .debs or translations kept, no recommends.
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$ROOT/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF

# Trim what debootstrap leaves behind.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin \
       "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/man/* \
       "$ROOT"/usr/share/info/* "$ROOT"/var/log/*.log "$ROOT"/var/log/apt/* \
       "$ROOT"/tmp/* "$ROOT"/var/tmp/*
mkdir -p "$ROOT/var/lib/apt/lists/partial"
: >"$ROOT/etc/hostname"
: >"$ROOT/etc/resolv.conf"
: >"$ROOT/etc/machine-id" 2>/dev/null || true

# ---------------------------------------------------------------- import
changes=(
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV LANG=C.UTF-8'
    --change 'CMD ["bash"]'
)
[ -n "$HASH" ] && changes+=(--change "LABEL omnitron.test.hash=$HASH")

tar --numeric-owner --xattrs -C "$ROOT" -c . \
    | docker import "${changes[@]}" - "$TAG" >/dev/null
say "imported $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
