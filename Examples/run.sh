#!/usr/bin/env bash
# Builds every example and runs each (each starts its own server and client on
# loopback and exits): a failure to build, a non-zero exit or a hang (60 s) fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
swift build --scratch-path "$here/.build" 2>&1 | grep -E "error|warning: |Compiling|Build complete" | grep -v "^\[" || true
bin=$(swift build --scratch-path "$here/.build" --show-bin-path)
for example in EmbeddedEcho LineProtocol AsyncAction PipelinedClient ServiceGroupServer LoadCustomProtocol; do
    echo "== $example"
    timeout 60 "$bin/$example"
done
echo "every example ran"
