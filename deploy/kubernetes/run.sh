#!/usr/bin/env bash
# Runs one load test on a Kubernetes cluster and merges the result:
#   1. the server (server.yaml) is applied and waited for (its TCP readiness probe);
#   2. the Indexed Job (load-job.yaml) is applied with SEGMENTS pods and one START_AT a
#      little ahead, so that every pod connects first and all start sending together;
#   3. each pod's --json and --hlog are taken from its log, and `conduit load merge`
#      prints the whole test's report (and writes merged.json, merged.hlog, merged.hgrm).
#
#   usage: [IMAGE=registry/conduit:tag] deploy/kubernetes/run.sh [SEGMENTS=4] [CONNECTIONS=200000]
#                                                       [DURATION=60s] [LEAD_SECONDS=60]
#
# Needs kubectl pointed at the cluster (Kubernetes 1.28+, for the job-completion-index pod
# label), the image (deploy/Dockerfile) pushed where the nodes pull from, named by IMAGE,
# GNU date, and a local `conduit` (swift build -c release; or CONDUIT=path) for the merge.
# Results go to ./conduit-results-<time>/: each segment's log, .json and .hlog, and the
# merged .json, .hgrm, .hlog and .html.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
segments=${1:-4}
connections=${2:-200000}
duration=${3:-60s}
lead=${4:-60}
conduit=${CONDUIT:-conduit}
[[ $duration =~ ^[0-9]+s$ ]] || { echo "DURATION is whole seconds, like 60s (not $duration)" >&2; exit 64; }
out="conduit-results-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

image=${IMAGE:-conduit:latest}
sed "s#image: conduit:latest#image: $image#" "$here/server.yaml" | kubectl apply -f -
kubectl rollout status deployment/conduit-server --timeout=300s

start_at=$(date -u -d "@$(( $(date +%s) + lead ))" +%Y-%m-%dT%H:%M:%SZ)
echo "starting $segments segments of $connections connections at $start_at" >&2
kubectl delete job conduit-load --ignore-not-found --wait=true
"$here/render-job.sh" "$segments" "$start_at" "$connections" "$duration" | kubectl apply -f -

# Until every pod has ended (succeeded or failed), bounded by the lead, the duration and
# room for connecting and draining.
deadline=$(( $(date +%s) + lead + ${duration%s} + 300 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    ended=$(kubectl get job conduit-load -o jsonpath='{.status.succeeded} {.status.failed}' | awk '{print $1 + $2}')
    [ "${ended:-0}" -ge "$segments" ] && break
    sleep 5
done

for index in $(seq 0 $(( segments - 1 ))); do
    pod=$(kubectl get pods -l "batch.kubernetes.io/job-completion-index=$index,app.kubernetes.io/name=conduit-load" \
        -o jsonpath='{.items[0].metadata.name}')
    kubectl logs "$pod" >"$out/pod-$index.log"
    sed -n '/^--- conduit-result-json$/,/^--- conduit-result-hlog$/p' "$out/pod-$index.log" | sed '1d;$d' >"$out/segment-$index.json"
    sed -n '/^--- conduit-result-hlog$/,/^--- conduit-result-end$/p' "$out/pod-$index.log" | sed '1d;$d' >"$out/segment-$index.hlog"
    status=$(sed -n 's/^--- conduit-exit //p' "$out/pod-$index.log")
    [ "$status" = 0 ] || echo "segment $index/$segments: conduit load exited ${status:-without reporting} (see $out/pod-$index.log)" >&2
done
"$conduit" load merge "$out"/segment-*.json --json "$out/merged.json" --hgrm "$out/merged.hgrm" \
    --hlog "$out/merged.hlog" --html "$out/merged.html"
echo "results in $out/" >&2
