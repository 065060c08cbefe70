#!/usr/bin/env bash
# Runs the container test (tests/deploy/test_deploy_container.py) on a machine that has podman but no
# Docker engine and no access to a container registry (see the README's "Without Docker" section):
#
#   base     debootstrap a Debian bookworm root file system with python3 and import it as
#            localhost/bookworm-py:local (the Dockerfile's BASE; python:3.11-slim cannot be pulled here).
#            The host's CA bundle and pip cert setting go into it, since outbound HTTPS is re-signed by a
#            proxy and the image build pip-installs from PyPI.
#   service  start `podman system service` on a unix socket with the runc runtime and ulimits below the
#            host's (crun fails on this kernel's cgroups), so the docker CLI and SDK can talk to it.
#   test     run the container test against that socket (DOCKER_HOST) with the local base.
#   stop     stop the service started by `service`.
#   all      base + service + test + stop (the default).
#
# Needs root and `apt-get install podman buildah runc debootstrap` (the `install` step does it).
# State lives in $GRADWIRE_PODMAN_STATE (default /var/tmp/gradwire-podman).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${GRADWIRE_PODMAN_STATE:-/var/tmp/gradwire-podman}"
BASE_IMAGE="${GRADWIRE_BASE_IMAGE:-localhost/bookworm-py:local}"
SOCKET="$STATE/podman.sock"
HOST_CA=/etc/ssl/certs/ca-certificates.crt
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
export CONTAINERS_CONF="$STATE/containers.conf"

log() { printf '[podman-local %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

write_containers_conf() {
    mkdir -p "$STATE"
    cat >"$CONTAINERS_CONF" <<'EOF'
# Written by deploy/podman-local.sh: runc (crun fails on this kernel's cgroups), ulimits below the
# host's hard limits, host networking for builds that pip install.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
EOF
}

cmd_install() {
    apt-get install -y -qq podman buildah runc debootstrap
}

cmd_base() {
    write_containers_conf
    if podman image exists "$BASE_IMAGE"; then
        log "$BASE_IMAGE already exists"
        return
    fi
    local rootfs="$STATE/rootfs"
    rm -rf "$rootfs"
    log "debootstrap bookworm into $rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$rootfs" http://deb.debian.org/debian
    # Trust what the host trusts (its proxy's CA included), and tell pip where that bundle is.
    cp "$HOST_CA" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    log "import as $BASE_IMAGE"
    tar -C "$rootfs" -c . | podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE"
    rm -rf "$rootfs"
}

cmd_service() {
    write_containers_conf
    if [ -S "$SOCKET" ] && curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null; then
        log "service already answers on $SOCKET"
        return
    fi
    rm -f "$SOCKET"
    log "starting podman system service on $SOCKET"
    # Docker-format images: HEALTHCHECK exists only in that format (OCI image configs drop it).
    BUILDAH_FORMAT=docker nohup podman system service --time=0 "unix://$SOCKET" >"$STATE/service.log" 2>&1 &
    echo $! >"$STATE/service.pid"
    for _ in $(seq 1 50); do
        if curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null; then
            log "service up (pid $(cat "$STATE/service.pid"))"
            return
        fi
        sleep 0.2
    done
    log "service did not answer; see $STATE/service.log"
    exit 1
}

cmd_test() {
    log "running the container test with DOCKER_HOST=unix://$SOCKET BASE=$BASE_IMAGE"
    cd "$REPO"
    DOCKER_HOST="unix://$SOCKET" \
        GRADWIRE_TEST_IMAGE_BASE="$BASE_IMAGE" \
        GRADWIRE_TEST_BUILD_NETWORK=host \
        "$PYTHON" -m pytest -v -rs tests/deploy/test_deploy_container.py "$@"
}

cmd_stop() {
    if [ -f "$STATE/service.pid" ]; then
        local pid
        pid="$(cat "$STATE/service.pid")"
        if kill "$pid" 2>/dev/null; then
            log "stopped podman service (pid $pid)"
        fi
        rm -f "$STATE/service.pid" "$SOCKET"
    fi
}

main() {
    local step="${1:-all}"
    shift || true
    case "$step" in
        install) cmd_install ;;
        base) cmd_base ;;
        service) cmd_service ;;
        test) cmd_test "$@" ;;
        stop) cmd_stop ;;
        all)
            cmd_base
            cmd_service
            trap cmd_stop EXIT
            cmd_test "$@"
            ;;
        *)
            echo "usage: $0 [install|base|service|test|stop|all] [pytest args]" >&2
            exit 2
            ;;
    esac
}

main "$@"
