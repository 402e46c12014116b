#!/usr/bin/env python3
"""Issue 11's comparison: servers of the same protocol under the same `conduit load`,
one markdown table, each figure the median of --repeats runs. Run through
Benchmarks/compare.sh, which builds everything first.

  echo:   C echo (Benchmarks/C/echo_server, and uring_echo_server on io_uring), SwiftNIO echo,
          Conduit multiconn-server
  search: C app (Benchmarks/C/app_server), SwiftNIO app (Foundation codec, and Conduit's
          codec), Conduit app-server
Conduit runs on its three backends (shim, swift, uring). The first server of each workload, the C
one, is the reference: "vs C" is a server's CPU per request divided by C's.

Each server runs alone, pinned to core 0; `conduit load` runs pinned to core 1. Server CPU
per request is its user+system time from /proc/PID/stat over the load run, divided by the
requests served. Within a repeat the servers run one after another, so slow drift of the
machine spreads over all of them. Errors are the total over the repeats, not a median:
one wrong answer anywhere shows.

Only loopback is used; every process started here is stopped by its PID.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from procstat import cpu_seconds, stop


def start(command):
    """Starts a server on core 0; returns it and the port from its `Listening on` line."""
    server = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if "Listening on" not in line:
        server.kill()
        server.wait()
        raise RuntimeError(f"{command[0]} did not start: {line!r}")
    return server, int(line.strip().rsplit(":", 1)[1].split()[0])


def run(conduit, server_command, connections, duration, size=64, workload="echo", pipeline=1, compare="exact"):
    """Starts the server, loads it for `duration` seconds from core 1, stops it. Returns
    requests/s, p50 and p99 (µs), errors and the server's CPU µs per request."""
    server, port = start(server_command)
    try:
        time.sleep(0.3)  # let it settle; its start-up is not counted
        before = cpu_seconds(server.pid)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        try:
            load = subprocess.run(
                ["taskset", "-c", "1", conduit, "load", "--target", f"127.0.0.1:{port}", "--workload", workload,
                 "--size", str(size), "--connections", str(connections), "--duration", f"{duration}s",
                 "--pipeline", str(pipeline), "--compare", compare, "--quiet", "--json", path],
                check=False, capture_output=True, text=True, timeout=duration + 120)
            after = cpu_seconds(server.pid)
            if os.path.getsize(path) == 0:
                raise RuntimeError(f"conduit load exited {load.returncode}: {load.stderr.strip()[-400:]}")
            with open(path) as f:
                result = json.load(f)
        finally:
            os.unlink(path)
        return {"rps": result["requests_per_second"], "p50": result["latency_ns"]["p50"] / 1000,
                "p99": result["latency_ns"]["p99"] / 1000, "errors": result["error_count"],
                "cpu": (after - before) / max(result["requests"], 1) * 1e6}
    finally:
        stop(server)


def servers(args):
    """(name, command, how `conduit load` compares answers) per workload, C first."""
    conduit = [args.conduit]
    return {
        "echo": [
            ("C echo (epoll)", [os.path.join(args.c_dir, "echo_server"), "0"], "exact"),
            ("C echo (io_uring)", [os.path.join(args.c_dir, "uring_echo_server"), "0"], "exact"),
            # The floor with one feature changed, to measure each on its own (--only 'io_uring').
            ("C echo (io_uring, plain setup)", [os.path.join(args.c_dir, "uring_echo_server"), "0", "--plain-setup"], "exact"),
            ("C echo (io_uring, fixed files)", [os.path.join(args.c_dir, "uring_echo_server"), "0", "--fixed-files"], "exact"),
            ("SwiftNIO echo", [args.nio_echo, "0"], "exact"),
            ("Conduit multiconn-server (shim)", conduit + ["multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "shim"], "exact"),
            ("Conduit multiconn-server (swift)", conduit + ["multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "swift"], "exact"),
            ("Conduit multiconn-server (uring)", conduit + ["multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "uring"], "exact"),
        ],
        "search": [
            ("C app (epoll)", [os.path.join(args.c_dir, "app_server"), "0"], "exact"),
            # JSONEncoder's bytes differ from the tutorial's (key order, no spaces, `\/`).
            ("SwiftNIO app (Foundation codec) †", [args.nio_app, "0", "--codec", "foundation"], "semantic"),
            ("SwiftNIO app (Conduit codec)", [args.nio_app, "0", "--codec", "conduit"], "exact"),
            ("Conduit app-server (shim)", conduit + ["app-server", "127.0.0.1", "0", "--log-level", "error", "--backend", "shim"], "exact"),
            ("Conduit app-server (swift)", conduit + ["app-server", "127.0.0.1", "0", "--log-level", "error", "--backend", "swift"], "exact"),
            ("Conduit app-server (uring)", conduit + ["app-server", "127.0.0.1", "0", "--log-level", "error", "--backend", "uring"], "exact"),
        ],
    }


def add_server_arguments(parser):
    """The flags that say where the servers are and which workloads run (shared with
    syscalls_per_request.py)."""
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--nio-echo", default="Benchmarks/.build/release/NIOEchoServer")
    parser.add_argument("--nio-app", default="Benchmarks/.build/release/NIOAppServer")
    parser.add_argument("--c-dir", default="Benchmarks/C")
    parser.add_argument("--workloads", default="echo,search")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--connections", default="100,1000")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline", type=int, default=1, help="requests in flight per connection")
    parser.add_argument("--size", type=int, default=64, help="echo payload bytes")
    parser.add_argument("--only", default="",
                        help="comma-separated parts of server names to run (the C reference always runs), e.g. 'C,(uring),(shim)'")
    args = parser.parse_args()
    table = servers(args)
    if args.only:
        parts = args.only.split(",")
        table = {w: [s for i, s in enumerate(entries) if i == 0 or any(p in s[0] for p in parts)]
                 for w, entries in table.items()}
    workloads = args.workloads.split(",")
    if any(w not in table for w in workloads) or args.repeats < 1:
        parser.error(f"--workloads is a list of {', '.join(table)}; --repeats at least 1")

    print(f"{args.duration:g} s per run, median of {args.repeats}, pipeline {args.pipeline}, echo {args.size} B; "
          f"server on core 0, load on core 1")
    print()
    print("| workload | connections | server | requests/s | p50 | p99 | errors | server CPU/request | vs C |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for workload in workloads:
        for connections in [int(c) for c in args.connections.split(",")]:
            runs = {name: [] for name, _, _ in table[workload]}
            for repeat in range(1, args.repeats + 1):
                for name, command, compare in table[workload]:
                    try:
                        r = run(args.conduit, command, connections, args.duration, args.size, workload,
                                args.pipeline, compare)
                    except Exception as error:  # one failed server must not lose the others' figures
                        print(f"{workload} {connections} {name} run {repeat}: FAILED: {error}", file=sys.stderr)
                        continue
                    runs[name].append(r)
                    print(f"{workload} {connections} {name} run {repeat}: {r['rps']:,.0f}/s, p50 {r['p50']:,.0f} µs, "
                          f"{r['errors']} errors, {r['cpu']:.2f} µs CPU/request", file=sys.stderr, flush=True)
            reference = statistics.median(r["cpu"] for r in runs[table[workload][0][0]]) if runs[table[workload][0][0]] else None
            for name, _, _ in table[workload]:
                rs = runs[name]
                if not rs:
                    print(f"| {workload} | {connections:,} | {name} | failed | | | | | |", flush=True)
                    continue
                median = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu")}
                ratio = f"{median['cpu'] / reference:.2f}" if reference else "—"
                print(f"| {workload} | {connections:,} | {name} | {median['rps']:,.0f} | {median['p50']:,.0f} µs | "
                      f"{median['p99']:,.0f} µs | {sum(r['errors'] for r in rs)} | {median['cpu']:.2f} µs | {ratio} |",
                      flush=True)
    if "search" in workloads:
        print()
        print("† answers compared with `conduit load --compare semantic` (same data, other bytes); all others byte for byte.")


if __name__ == "__main__":
    main()
