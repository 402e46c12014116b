#!/usr/bin/env bash
# Builds the DocC catalog of every library module against its symbol graph and fails
# on any warning (an unresolved symbol or article link, a malformed directive).
set -euo pipefail
cd "$(dirname "$0")/.."
swift package dump-symbol-graph >/dev/null
graphs=$(ls -d .build/*/symbolgraph | head -1)
status=0
for module in Conduit ConduitMessage ConduitApp ConduitLoad ConduitServiceLifecycle ConduitMetrics; do
    only=$(mktemp -d)
    cp "$graphs/$module.symbols.json" "$only/"
    cp "$graphs/$module"@*.symbols.json "$only/" 2>/dev/null || true
    log=$(mktemp)
    docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$only" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.conduit.$module" \
        --output-path "$(mktemp -d)" >"$log" 2>&1 || status=1
    if grep -q "^warning\|^error" "$log"; then
        grep -A3 "^warning\|^error" "$log"
        status=1
    fi
    echo "$module: documentation built"
    rm -rf "$only" "$log"
done
exit $status
