#!/usr/bin/env bash
# TLS interop with SwiftNIO + NIOSSL (BoringSSL), both directions, on loopback:
#   1. NIOSSLEchoClient (trusting a CA made here, checking the name localhost) against
#      `conduit multiconn-server --tls-cert --tls-key`;
#   2. `conduit echo-client --tls-ca` and `conduit load --tls-ca` against NIOSSLEchoServer.
# Not in CI (building BoringSSL takes minutes); run it after changing the TLS glue.
# usage: Benchmarks/interop_niossl.sh [--no-build]; exits 1 if any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1-}" != "--no-build" ]; then
    swift build -c release --product conduit >&2
    (cd Benchmarks && swift build -c release --product NIOSSLEchoServer --product NIOSSLEchoClient) >&2
fi
conduit=.build/release/conduit
nio=Benchmarks/.build/release

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]+"${pids[@]}"}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A CA and a server certificate it signed for localhost and 127.0.0.1.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -days 1 -subj "/CN=interop CA" 2>/dev/null
openssl req "${ec[@]}" -keyout "$work/server.key" -out "$work/server.csr" -subj /CN=localhost 2>/dev/null
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/server.pem" -days 1 -extfile "$work/ext" 2>/dev/null

# Starts a server with its stdout in $work/$1.out; sets $port from its Listening line.
start() {
    local name=$1
    shift
    "$@" > "$work/$name.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$name.out" | head -1)
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "$name did not start: $(cat "$work/$name.out")" >&2
    exit 1
}

failed=0
check() {
    local what=$1 expected=$2 got=$3
    if [ "$got" = "$expected" ]; then
        echo "ok    $what"
    else
        echo "FAIL  $what: expected '$expected', got '$got'"
        failed=1
    fi
}

start conduit "$conduit" multiconn-server 127.0.0.1 0 --quiet --tls-cert "$work/server.pem" --tls-key "$work/server.key"
got=$("$nio/NIOSSLEchoClient" localhost "$port" "$work/ca.pem" "from NIOSSL" 2>&1 || true)
check "NIOSSL client -> conduit multiconn-server --tls-cert" "NIOSSL client echoed: from NIOSSL" "$got"

start nio "$nio/NIOSSLEchoServer" 0 "$work/server.pem" "$work/server.key"
got=$("$conduit" echo-client localhost "$port" "from conduit" --tls-ca "$work/ca.pem" 2>&1 || true)
check "conduit echo-client --tls-ca -> NIOSSL server" "Received b'from conduit'" "$got"
"$conduit" load --target "localhost:$port" --tls-ca "$work/ca.pem" --workload echo --connections 20 \
    --duration 2s --requests-per-connection 10 --quiet --json "$work/load.json" > /dev/null 2>&1 || true
got=$(python3 -c "import json; r = json.load(open('$work/load.json')); \
print(f\"errors {r['error_count']}, handshakes {r['tls']['handshakes'] > 0}, resumed {r['tls']['resumed'] > 0}\")" 2>&1 || true)
check "conduit load --tls-ca (churn, resumption) -> NIOSSL server" "errors 0, handshakes True, resumed True" "$got"

exit $failed
