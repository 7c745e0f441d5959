#!/usr/bin/env bash
# Make sure a local Docker engine is running (idempotent).
#
#   bash .ci/docker-up.sh
#
# - exits 0 at once when `docker info` already works;
# - installs Debian's docker.io when dockerd is missing;
# - starts dockerd detached (setsid + nohup), logging to $DOCKERD_LOG;
# - waits up to $DOCKER_UP_TIMEOUT seconds (default 60) for `docker info`.
#
# Daemon options chosen for this kind of machine:
# - the bridge MTU follows the uplink's MTU (eth0 is 1400 here; the default
#   1500 would let large packets from containers stall on the way out);
# - storage driver: dockerd's default (overlay2) is tried first; if the daemon
#   does not come up with it, vfs is used instead;
# - iptables: the default (nf_tables backend) is tried first; if the daemon
#   fails on iptables, the legacy backend is selected and it is tried again.
# Extra daemon flags can be given in $DOCKERD_EXTRA_ARGS.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
TIMEOUT=${DOCKER_UP_TIMEOUT:-60}

say() { printf 'docker-up: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if docker_ok; then
    exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root to install/start dockerd"

# ---------------------------------------------------------------- install
apt_updated=0
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # Package lists present and fresh enough? Try without an update first.
    if [ "$apt_updated" = 0 ] && ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
        if apt-get install -y -q --no-install-recommends "$@"; then
            return 0
        fi
    fi
    if [ "$apt_updated" = 0 ]; then
        apt-get update -q
        apt_updated=1
    fi
    apt-get install -y -q --no-install-recommends "$@"
}

if ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd not found: installing docker.io"
    apt_install docker.io
fi
command -v docker >/dev/null 2>&1 || apt_install docker.io
command -v iptables >/dev/null 2>&1 || apt_install iptables

# ---------------------------------------------------------------- start
uplink_mtu() {
    local dev
    dev=$(ip -o route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="dev") {print $(i+1); exit}}')
    [ -n "$dev" ] && [ -r "/sys/class/net/$dev/mtu" ] && cat "/sys/class/net/$dev/mtu"
}

wait_ready() {   # $1 = pid of the dockerd we started (may be empty)
    local pid=$1 deadline=$((SECONDS + TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if docker info >/dev/null 2>&1; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 2   # our daemon died
        fi
        sleep 0.2
    done
    return 1
}

start_dockerd() {   # extra dockerd args...
    local args=() mtu
    mtu=$(uplink_mtu || true)
    if [ -n "$mtu" ] && [ "$mtu" -lt 1500 ]; then
        args+=(--mtu "$mtu")
    fi
    # shellcheck disable=SC2206
    args+=(${DOCKERD_EXTRA_ARGS:-} "$@")
    mkdir -p "$(dirname "$LOG")"
    printf '\n=== %s: dockerd %s\n' "$(date -Is)" "${args[*]}" >>"$LOG"
    setsid nohup dockerd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
    DOCKERD_PID=$!
    say "started dockerd (pid $DOCKERD_PID) ${args[*]}; log: $LOG"
}

# A dockerd that is already running but not answering yet: just wait for it.
if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is already running; waiting for it"
    wait_ready "" && exit 0
    die "dockerd is running but 'docker info' did not answer within ${TIMEOUT}s (see $LOG)"
fi

# A stale pid file from a daemon that died would block a new one.
for f in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$f" ] && ! kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null; then
        rm -f "$f"
    fi
done

attempt() {   # extra dockerd args...
    local rc=0
    start_dockerd "$@"
    wait_ready "$DOCKERD_PID" || rc=$?
    if [ "$rc" = 0 ]; then
        say "docker is up ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}' 2>/dev/null))"
        return 0
    fi
    if [ "$rc" = 1 ]; then
        die "dockerd did not answer within ${TIMEOUT}s; last lines of $LOG:
$(tail -n 20 "$LOG")"
    fi
    say "dockerd exited; last lines of $LOG:"
    tail -n 8 "$LOG" >&2
    return 1
}

attempt && exit 0

if tail -n 40 "$LOG" | grep -qiE 'iptables|nf_tables|xtables'; then
    if command -v iptables-legacy >/dev/null 2>&1; then
        say "retrying with the iptables legacy backend"
        update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
        update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
        attempt && exit 0
    fi
fi

if tail -n 40 "$LOG" | grep -qiE 'overlay|storage|graphdriver|driver'; then
    say "retrying with --storage-driver=vfs"
    attempt --storage-driver=vfs && exit 0
fi

die "could not start dockerd (see $LOG)"
