#!/usr/bin/env bash
# Runs one load test split over several "hosts" on this machine, each a network
# namespace of its own with its own address, against `conduit app-server` in another
# namespace, all joined by a bridge: what `conduit load --segment I/N --start-at TIME`
# does across real machines, simulated for real (separate network stacks and source
# addresses, one server), then merged with `conduit load merge`.
#
#   usage: simulate.sh CONDUIT_BINARY [HOSTS=4] [CONNECTIONS=400] [SECONDS=3]
#
# Prints one JSON object: the server's address, the peers it had connections from while
# the load ran, each host's figures, and the merged result's. The namespaces and
# addresses (10.77.0.0/24) exist only while it runs; nothing touches the host's network.
# Needs root (or CAP_NET_ADMIN), iproute2 and the bridge driver. Exit 77 when network
# namespaces are not permitted here (the caller skips).
set -euo pipefail
. "$(dirname "$0")/netns.sh"
binary=$1
hosts=${2:-4}
connections=${3:-400}
seconds=${4:-3}
tag="cdt$$"
server_ns="$tag-srv"
work=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for i in $(seq 1 "$hosts"); do ip netns del "$tag-h$i" 2>/dev/null || true; done
    ip netns del "$server_ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

netns_add_or_skip "$server_ns"
# Every command in a namespace is bounded in time.
in_ns() { local ns=$1; shift; timeout 120 ip netns exec "$ns" "$@"; }

# The server's side: a bridge with the server's address, one port per host.
ip -n "$server_ns" link set lo up
ip -n "$server_ns" link add br0 type bridge
ip -n "$server_ns" addr add 10.77.0.1/24 dev br0
ip -n "$server_ns" link set br0 up
for i in $(seq 1 "$hosts"); do
    ns="$tag-h$i"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add eth0 type veth peer name "port$i" netns "$server_ns"
    ip -n "$server_ns" link set "port$i" master br0 up
    ip -n "$ns" addr add "10.77.0.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
done

# Directly, not through in_ns: `ip netns exec` becomes the server, so $! is its PID.
ip netns exec "$server_ns" "$binary" app-server 10.77.0.1 0 --log-level error >"$work/server.out" 2>"$work/server.err" &
pids+=($!)
port=$(listening_port "$work/server.out" "$work/server.err")

# One start instant for every host, far enough ahead for all of them to connect.
start_at=$(python3 -c "import time; print(f'{time.time() + 3:.3f}')")
loads=()
for i in $(seq 1 "$hosts"); do
    in_ns "$tag-h$i" "$binary" load --target "10.77.0.1:$port" --connections "$connections" \
        --segment "$((i - 1))/$hosts" --start-at "$start_at" --duration "${seconds}s" --quiet \
        --json "$work/host$i.json" --hlog "$work/host$i.hlog" >"$work/host$i.out" 2>"$work/host$i.err" &
    loads+=($!)
done

# While they send: which addresses the server has connections from.
sleep "$(python3 -c "import time; print(max($start_at - time.time(), 0) + $seconds / 2)")"
in_ns "$server_ns" ss -Htn state established "( sport = :$port )" >"$work/peers.txt" || true

status=0
for pid in "${loads[@]}"; do wait "$pid" || status=1; done
if [ $status -ne 0 ]; then
    for i in $(seq 1 "$hosts"); do echo "host $i: $(cat "$work/host$i.err")" >&2; done
    exit 1
fi
"$binary" load merge "$work"/host*.json --json "$work/merged.json" >"$work/merged.out"

python3 - "$work" "$hosts" "$port" <<'PY'
import json, sys
work, hosts, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
peers = sorted({line.split()[-1].rsplit(":", 1)[0] for line in open(f"{work}/peers.txt") if line.strip()})
def figures(d):
    return {k: d[k] for k in ("segment", "connections", "connections_up", "requests", "sent", "error_count",
                              "start_offset_ms") if k in d} | {"p99_ns": d["latency_ns"]["p99"],
                                                               "count": d["latency_ns"]["count"]}
parts = [figures(json.load(open(f"{work}/host{i}.json"))) for i in range(1, hosts + 1)]
merged = figures(json.load(open(f"{work}/merged.json")))
print(json.dumps({"server": f"10.77.0.1:{port}", "peers": peers, "hosts": parts, "merged": merged}))
PY
