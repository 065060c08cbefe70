#!/usr/bin/env bash
# A local gradwire cluster on 127.0.0.1: N `gradwire serve` replicas behind HAProxy, the topology of
# deploy/k8s (session affinity by consistent hashing of gradwire-session-id, active grpc.health.v1
# checks, drain on SIGTERM).
#
#   deploy/local/cluster.sh up --replicas N --port P [--drain-seconds S]   proxy on P, replicas on P+1..P+N
#   deploy/local/cluster.sh status                                       one JSON line per replica
#   deploy/local/cluster.sh restart ID                                   SIGTERM one replica, start it again
#   deploy/local/cluster.sh down                                         stop everything
#
# State (pid files, logs, haproxy.cfg) lives in $GRADWIRE_CLUSTER_DIR (default /tmp/gradwire-cluster).
# Needs haproxy (installed with apt-get when run as root) and gradwire (the repo's .venv, else PATH).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STATE="${GRADWIRE_CLUSTER_DIR:-/tmp/gradwire-cluster}"
WAIT_SECONDS="${GRADWIRE_CLUSTER_WAIT:-60}"

die() { echo "cluster.sh: $*" >&2; [[ "${CLEANUP_ON_DIE:-0}" == 1 ]] && cmd_down; exit 1; }

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

gradwire_bin() {
    if [[ -n "${GRADWIRE_BIN:-}" ]]; then echo "$GRADWIRE_BIN"
    elif [[ -x "$REPO/.venv/bin/gradwire" ]]; then echo "$REPO/.venv/bin/gradwire"
    elif command -v gradwire >/dev/null; then command -v gradwire
    else die "gradwire is not installed: run 'make serve' once in $REPO (makes .venv), or pip install the repo"
    fi
}

need_haproxy() {
    command -v haproxy >/dev/null && return
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "cluster.sh: installing haproxy (apt-get install haproxy)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    fi
    command -v haproxy >/dev/null || die "haproxy is missing: install it (Debian/Ubuntu: sudo apt-get install haproxy; 2.6 or newer)"
}

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# health ADDRESS: exit 0 when grpc.health.v1 answers SERVING there
health() { "$(gradwire_bin)" health --address "$1" >/dev/null 2>&1; }

wait_healthy() {
    local address="$1" deadline=$((SECONDS + WAIT_SECONDS))
    until health "$address"; do
        ((SECONDS < deadline)) || die "$address did not become healthy within ${WAIT_SECONDS}s (logs: $STATE)"
        sleep 0.2
    done
}

start_replica() {  # start_replica ID PORT
    local id="$1" port="$2"
    touch "$STATE/$id.log"
    stat -c %s "$STATE/$id.log" >"$STATE/$id.log-offset"  # where this run's log starts
    GRADWIRE_REPLICA_ID="$id" GRADWIRE_DRAIN_SECONDS="$(cat "$STATE/drain-seconds")" \
        setsid "$(gradwire_bin)" serve --address "127.0.0.1:$port" >>"$STATE/$id.log" 2>&1 < /dev/null &
    echo $! >"$STATE/$id.pid"
    echo "$port" >"$STATE/$id.port"
}

wait_listening() {  # wait_listening ID: until this run of the replica logged that it listens
    local id="$1" deadline=$((SECONDS + WAIT_SECONDS))
    local offset
    offset=$(($(cat "$STATE/$id.log-offset") + 1))
    until tail -c "+$offset" "$STATE/$id.log" | grep -q "listening on"; do
        alive "$(cat "$STATE/$id.pid")" || die "$id exited at start: $(tail -c "+$offset" "$STATE/$id.log" | tail -5)"
        ((SECONDS < deadline)) || die "$id did not start within ${WAIT_SECONDS}s (log: $STATE/$id.log)"
        sleep 0.1
    done
}

replica_ids() { (cd "$STATE" 2>/dev/null && ls ./*.port 2>/dev/null | sed 's|^\./||; s|\.port$||' | sort -V) || true; }

cmd_up() {
    local replicas=2 port=50051 drain=2
    while (($#)); do
        case "$1" in
            --replicas) replicas="$2"; shift 2 ;;
            --port) port="$2"; shift 2 ;;
            --drain-seconds) drain="$2"; shift 2 ;;
            *) usage ;;
        esac
    done
    [[ "$replicas" =~ ^[1-9][0-9]*$ ]] || die "--replicas must be a positive integer, got '$replicas'"
    [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port + replicas < 65536)) || die "--port must leave room for P+1..P+N, got '$port'"
    need_haproxy
    gradwire_bin >/dev/null
    if [[ -f "$STATE/haproxy.pid" ]] && alive "$(cat "$STATE/haproxy.pid")"; then
        die "a cluster is already up (state in $STATE): run '$0 down' first"
    fi
    rm -rf "$STATE" && mkdir -p "$STATE"
    CLEANUP_ON_DIE=1  # a failed start leaves nothing running
    echo "$drain" >"$STATE/drain-seconds"
    echo "$port" >"$STATE/proxy-port"
    local servers="" k
    for ((k = 1; k <= replicas; k++)); do
        start_replica "replica-$k" $((port + k))
        servers+="    server replica-$k 127.0.0.1:$((port + k))"$'\n'
    done
    local line
    while IFS= read -r line; do
        case "$line" in
            "@SERVERS@") printf '%s' "$servers" ;;
            *) printf '%s\n' "${line//@BIND@/127.0.0.1:$port}" ;;
        esac
    done <"$HERE/haproxy.cfg.in" >"$STATE/haproxy.cfg"
    haproxy -c -q -f "$STATE/haproxy.cfg" || die "haproxy rejected $STATE/haproxy.cfg"
    for ((k = 1; k <= replicas; k++)); do wait_listening "replica-$k"; done
    setsid haproxy -db -f "$STATE/haproxy.cfg" >>"$STATE/haproxy.log" 2>&1 < /dev/null &
    echo $! >"$STATE/haproxy.pid"
    wait_healthy "127.0.0.1:$port"
    # Health through the proxy answers as soon as one replica is in: give the checks time to admit all.
    sleep 0.6
    CLEANUP_ON_DIE=0
    echo "gradwire cluster: proxy 127.0.0.1:$port, $replicas replica(s) on 127.0.0.1:$((port + 1))-$((port + replicas))" >&2
}

cmd_status() {
    local id
    [[ -d "$STATE" ]] || die "no cluster (no $STATE)"
    for id in $(replica_ids); do
        printf '{"replica": "%s", "pid": %s, "address": "127.0.0.1:%s"}\n' \
            "$id" "$(cat "$STATE/$id.pid")" "$(cat "$STATE/$id.port")"
    done
}

stop_pid() {  # stop_pid PID SECONDS [signalled]: SIGTERM (unless already sent), then SIGKILL after SECONDS
    local pid="$1" deadline=$((SECONDS + $2))
    alive "$pid" || return 0
    [[ "${3:-}" == signalled ]] || kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; break; fi
        sleep 0.1
    done
}

cmd_restart() {
    local id="${1:-}"
    [[ -n "$id" && -f "$STATE/$id.port" ]] || die "no replica '$id' (see '$0 status')"
    stop_pid "$(cat "$STATE/$id.pid")" 60
    start_replica "$id" "$(cat "$STATE/$id.port")"
    wait_listening "$id"
    sleep 0.6  # two passed health checks put it back in the proxy's ring
}

cmd_down() {
    [[ -d "$STATE" ]] || return 0
    local id pids=()
    for id in $(replica_ids); do
        pids+=("$(cat "$STATE/$id.pid")")
        kill -TERM "${pids[-1]}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do stop_pid "$pid" 60 signalled; done
    [[ -f "$STATE/haproxy.pid" ]] && stop_pid "$(cat "$STATE/haproxy.pid")" 10
    rm -f "$STATE"/*.pid "$STATE"/*.port
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    status) cmd_status ;;
    restart) shift; cmd_restart "$@" ;;
    down) cmd_down ;;
    *) usage ;;
esac
