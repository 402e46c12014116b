#!/usr/bin/env bash
# Runs `conduit app-server` and `conduit load` inside a private network namespace
# (its own loopback; nothing touches the host's network) while faults are applied
# there, and prints one JSON line per scenario:
#   drop: nftables drops DROP_PERCENT % of TCP packets on the namespace's output hook,
#         so TCP really retransmits; the rule's counter shows the drops.
#   bandwidth: tc's tbf limits the namespace's loopback to RATE.
# usage: netns-faults.sh CONDUIT_BINARY [SECONDS] [DROP_PERCENT] [RATE]
# Exit 77 when network namespaces are not permitted here (the caller skips).
set -euo pipefail
. "$(dirname "$0")/../../deploy/netns/netns.sh"
binary=$1
seconds=${2:-3}
drop=${3:-5}
rate=${4:-8mbit}
ns="conduit-faults-$$"
work=$(mktemp -d)
server_pid=""

cleanup() {
    if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

netns_add_or_skip "$ns"
# Every command in the namespace is bounded in time.
in_ns() { timeout 60 ip netns exec "$ns" "$@"; }
in_ns ip link set lo up

start_server() {
    # Directly, not through in_ns: `ip netns exec` becomes the server, so $! is its PID.
    ip netns exec "$ns" "$binary" app-server 127.0.0.1 0 --log-level error >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    port=$(listening_port "$work/server.out" "$work/server.err")
}

field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"; }

start_server

# 1. Packet loss.
in_ns nft add table inet conduit_faults
in_ns nft add chain inet conduit_faults out '{ type filter hook output priority 0; }'
in_ns nft add rule inet conduit_faults out meta l4proto tcp numgen random mod 100 "<" "$drop" counter drop
set +e
in_ns "$binary" load --target "127.0.0.1:$port" --connections 20 --duration "${seconds}s" --drain 10s --quiet \
    --json "$work/drop.json" >/dev/null 2>"$work/drop.err"
status=$?
set -e
dropped=$(in_ns nft list chain inet conduit_faults out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
echo "{\"scenario\": \"drop\", \"percent\": $drop, \"exit\": $status, \"requests\": $(field "$work/drop.json" "['requests']"), \"sent\": $(field "$work/drop.json" "['sent']"), \"errors\": $(field "$work/drop.json" "['error_count']"), \"dropped_packets\": ${dropped:-0}, \"p99_ms\": $(field "$work/drop.json" "['latency_ns']['p99']/1e6")}"
in_ns nft delete table inet conduit_faults

# 2. Bandwidth limit, binary requests of 4000 bytes.
in_ns tc qdisc add dev lo root tbf rate "$rate" burst 32kb latency 100ms
set +e
in_ns "$binary" load --target "127.0.0.1:$port" --connections 10 --duration "${seconds}s" --drain 10s --quiet \
    --workload binary --size 4000 --json "$work/tbf.json" >/dev/null 2>"$work/tbf.err"
status=$?
set -e
in_ns tc qdisc del dev lo root
echo "{\"scenario\": \"bandwidth\", \"rate\": \"$rate\", \"exit\": $status, \"requests\": $(field "$work/tbf.json" "['requests']"), \"errors\": $(field "$work/tbf.json" "['error_count']"), \"requests_per_second\": $(field "$work/tbf.json" "['requests_per_second']")}"

# 3. The server is still serving.
in_ns "$binary" app-client 127.0.0.1 "$port" search morpheus | grep -q "Got result: Follow the white rabbit." \
    && echo '{"scenario": "after", "served": true}' || echo '{"scenario": "after", "served": false}'
