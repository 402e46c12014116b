#!/usr/bin/env bash
# Validates deploy/kubernetes against the Kubernetes schemas, offline (kubernetes-validate
# from PyPI carries them): as written, and the load Job as render-job.sh makes it for a run.
set -euo pipefail
cd "$(dirname "$0")/.."
kubernetes-validate --strict deploy/kubernetes/*.yaml
rendered=$(mktemp --suffix=.yaml)
trap 'rm -f "$rendered"' EXIT
deploy/kubernetes/render-job.sh 8 2026-11-26T14:00:00Z 1000 5s >"$rendered"
grep -q "^  completions: 8$" "$rendered" && grep -q 'value: "2026-11-26T14:00:00Z"' "$rendered"
kubernetes-validate --strict "$rendered"
bash -n deploy/kubernetes/run.sh deploy/kubernetes/render-job.sh deploy/netns/simulate.sh deploy/netns/netns.sh
