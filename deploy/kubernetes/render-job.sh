#!/usr/bin/env bash
# Prints load-job.yaml for one run: SEGMENTS pods (completions and parallelism), the env
# values the pods read, and the image (IMAGE, default conduit:latest). run.sh applies its
# output; CI validates it.
#   usage: [IMAGE=registry/conduit:tag] render-job.sh SEGMENTS START_AT CONNECTIONS DURATION
set -euo pipefail
segments=$1 start_at=$2 connections=$3 duration=$4
sed -e "s#image: conduit:latest#image: ${IMAGE:-conduit:latest}#" -e "s/^\(  completions:\).*/\1 $segments/" -e "s/^\(  parallelism:\).*/\1 $segments/" \
    -e "/name: SEGMENTS/{n;s/value: .*/value: \"$segments\"/}" \
    -e "/name: START_AT/{n;n;s/value: .*/value: \"$start_at\"/}" \
    -e "/name: CONNECTIONS/{n;s/value: .*/value: \"$connections\"/}" \
    -e "/name: DURATION/{n;s/value: .*/value: \"$duration\"/}" \
    "$(dirname "$0")/load-job.yaml"
