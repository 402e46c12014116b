# Shell functions the network-namespace scripts share (deploy/netns/simulate.sh,
# Tests/Faults/netns-faults.sh). Source it; it defines functions only.

# Creates namespace $1, or exits 77 (the callers' "skip") where namespaces are not
# permitted here.
netns_add_or_skip() {
    if ! ip netns add "$1" 2>/dev/null; then
        echo "network namespaces are not permitted here (ip netns add failed); skipping" >&2
        exit 77
    fi
}

# Waits (at most 10 s) for a server's "Listening on HOST:PORT" line in file $1 and
# prints PORT; fails, showing the server's stderr from file $2, if none comes.
listening_port() {
    local out=$1 err=$2 port=""
    for _ in $(seq 1 200); do
        port=$(sed -n 's/^Listening on .*:\([0-9][0-9]*\).*/\1/p' "$out" 2>/dev/null | head -n 1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "server did not start: $(cat "$err")" >&2; return 1; }
    echo "$port"
}
