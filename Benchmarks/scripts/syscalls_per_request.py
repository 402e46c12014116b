#!/usr/bin/env python3
"""System calls per request of each server, counted by `strace -c -f` attached to the
server for one load run (issue 12's "system calls per request" figure).

strace slows the server it traces, so the throughput here is not a measurement; only
the ratio of system calls to requests is. The servers, the pinning (server on core 0,
`conduit load` on core 1) and the server list are those of compare_servers.py; build
them first (Benchmarks/compare.sh builds everything).

  python3 Benchmarks/scripts/syscalls_per_request.py --connections 100 --pipeline 1 \\
      --workloads echo,search --only '(shim),(uring)'

Only loopback is used; every process started here is stopped by its PID.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from compare_servers import add_server_arguments, servers, start
from procstat import stop


def count(conduit, command, connections, duration, workload, pipeline, compare):
    """(requests, system calls, the three most frequent calls) for one traced run."""
    server, port = start(command)
    trace_path = tempfile.mktemp(suffix=".strace")
    json_path = tempfile.mktemp(suffix=".json")
    tracer = None
    try:
        time.sleep(0.3)
        tracer = subprocess.Popen(["strace", "-c", "-f", "-q", "-o", trace_path, "-p", str(server.pid)],
                                  stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached before the load starts
        subprocess.run(
            ["taskset", "-c", "1", conduit, "load", "--target", f"127.0.0.1:{port}", "--workload", workload,
             "--connections", str(connections), "--duration", f"{duration}s", "--pipeline", str(pipeline),
             "--compare", compare, "--quiet", "--json", json_path],
            check=False, capture_output=True, text=True, timeout=duration + 120)
        stop(tracer)
        tracer = None
        with open(json_path) as f:
            requests = json.load(f)["requests"]
        calls, top = parse(trace_path)
        return requests, calls, top
    finally:
        if tracer:
            stop(tracer)
        stop(server)
        for path in (trace_path, json_path):
            if os.path.exists(path):
                os.unlink(path)


def parse(path):
    """Total calls and the three most frequent from strace's -c summary."""
    rows = []
    total = 0
    with open(path) as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith(("%", "-")):
                continue
            if fields[-1] == "total":
                total = int(fields[3])
                continue
            # % time, seconds, usecs/call, calls, [errors], syscall
            rows.append((int(fields[3]), fields[-1]))
    rows.sort(reverse=True)
    return total, ", ".join(f"{name} {calls:,}" for calls, name in rows[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated parts of server names to run")
    args = parser.parse_args()
    table = servers(args)
    print(f"strace -c -f on the server, {args.connections} connections, pipeline {args.pipeline}, {args.duration:g} s")
    print()
    print("| workload | server | requests | system calls | per request | most frequent |")
    print("|---|---|---:|---:|---:|---|")
    for workload in args.workloads.split(","):
        for name, command, compare in table[workload]:
            if args.only and not any(p in name for p in args.only.split(",")):
                continue
            try:
                requests, calls, top = count(args.conduit, command, args.connections, args.duration, workload,
                                             args.pipeline, compare)
            except Exception as error:
                print(f"{workload} {name}: FAILED: {error}", file=sys.stderr)
                continue
            print(f"| {workload} | {name} | {requests:,} | {calls:,} | {calls / max(requests, 1):.3f} | {top} |",
                  flush=True)


if __name__ == "__main__":
    main()
