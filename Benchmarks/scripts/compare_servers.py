#!/usr/bin/env python3
"""Issue 11's comparison, measured as issue 22 asks: servers of the same protocol under the
same load, one markdown table, each figure the median of --repeats runs. Run through
Benchmarks/compare.sh, which builds everything first.

  echo:   C echo (Benchmarks/C/echo_server, and uring_echo_server on io_uring), SwiftNIO echo,
          Conduit multiconn-server
  search: C app (Benchmarks/C/app_server), SwiftNIO app (Foundation codec, and Conduit's
          codec), Conduit app-server
Conduit runs on its three backends (shim, swift, uring). The first server of each workload, the C
one, is the reference: "vs C" is a server's figure divided by the C server's in the same repeat.

Each server runs alone, pinned to core 0; the load runs pinned to core 1. The load is
Benchmarks/C/load_generator (one C thread, every answer checked), which costs less per
request than any server here, so at depth the servers saturate first; `--generator
conduit` loads with `conduit load` instead. Either way the generator's own CPU time over
the run's wall time is reported, and a row whose generator core was above 90 % busy is
marked ‡: its requests/s are the generator's. Server CPU per request is its user+system
time from /proc/PID/stat over the load run, divided by the requests answered. Within a
repeat the servers run one after another, so slow drift of the machine spreads over all
of them. Errors are the total over the repeats, not a median: one wrong answer anywhere
shows.

Only loopback is used; every process started here is stopped by its PID.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import c_generator
from procstat import conduit_load_report, cpu_seconds, stop


def start(command):
    """Starts a server on core 0; returns it and the port from its `Listening on` line."""
    # The server's stderr (a Conduit server's counters at exit) goes to a file, not among
    # the progress lines, where it read as part of the next row; shown if it fails to start.
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=subprocess.PIPE, stderr=log, text=True)
    server.stderr_log = log
    line = server.stdout.readline()
    if "Listening on" not in line:
        server.kill()
        server.wait()
        log.seek(0)
        raise RuntimeError(f"{command[0]} did not start: {line!r} {log.read()[-400:]}")
    return server, int(line.strip().rsplit(":", 1)[1].split()[0])


def load_with_conduit(conduit, port, connections, duration, size, workload, pipeline, compare):
    """`conduit load` on core 1: its figures, with how busy its core was."""
    result, busy = conduit_load_report(
        ["taskset", "-c", "1", conduit, "load", "--target", f"127.0.0.1:{port}", "--workload", workload,
         "--size", str(size), "--connections", str(connections), "--duration", f"{duration}s",
         "--pipeline", str(pipeline), "--compare", compare, "--quiet"], timeout=duration + 120)
    return {"requests": result["requests"], "rps": result["requests_per_second"],
            "p50": result["latency_ns"]["p50"] / 1000, "p99": result["latency_ns"]["p99"] / 1000,
            "errors": result["error_count"], "busy": busy}


def load_with_c(generator, port, connections, duration, size, workload, pipeline, compare):
    """Benchmarks/C/load_generator on core 1; answers compared byte for byte, or split by
    the protocol's lengths where the server's bytes differ (compare == "semantic")."""
    report = c_generator.run(generator, port, workload, connections, pipeline, duration, size,
                             exact=compare == "exact")
    return {"requests": report["requests"], "rps": report["requests_per_second"], "p50": report["p50_us"],
            "p99": report["p99_us"], "errors": report["errors"], "busy": report["busy"]}


def run(args, server_command, connections, workload, compare):
    """Starts the server, loads it for --duration seconds from core 1, stops it. Returns
    requests/s, p50 and p99 (µs), errors, the server's CPU µs per request, how busy the
    server's core was, and how busy the generator's was ("busy": above 0.9 the row
    measures the generator)."""
    server, port = start(server_command)
    try:
        time.sleep(0.3)  # let it settle; its start-up is not counted
        before, started = cpu_seconds(server.pid), time.monotonic()
        load = load_with_c if args.generator == "c" else load_with_conduit
        tool = args.c_generator if args.generator == "c" else args.conduit
        r = load(tool, port, connections, args.duration, args.size, workload, args.pipeline, compare)
        used, wall = cpu_seconds(server.pid) - before, time.monotonic() - started
        r["cpu"] = used / max(r["requests"], 1) * 1e6
        r["server_busy"] = used / wall
        return r
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
    parser.add_argument("--c-generator", default="Benchmarks/C/load_generator")
    parser.add_argument("--workloads", default="echo,search")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--connections", default="100,1000")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline", default="1", help="requests in flight per connection: one or a list (1,16)")
    parser.add_argument("--generator", choices=["c", "conduit"], default="c",
                        help="the load: Benchmarks/C/load_generator (default), or `conduit load`")
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

    depths = [int(d) for d in str(args.pipeline).split(",")]
    tool = "Benchmarks/C/load_generator" if args.generator == "c" else "`conduit load`"
    echo_size = f", echo {args.size} B" if "echo" in workloads else ""
    print(f"{args.duration:g} s per run, median of {args.repeats}{echo_size}; server on core 0, "
          f"{tool} on core 1. \"vs C\" is the median over the repeats of each run's ratio to the C server's "
          f"run of the same repeat (range in brackets).")
    print()
    print("| workload | connections | depth | server | requests/s | vs C | p50 | p99 | errors | server CPU/request | vs C "
          "| server core | generator core |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    bound = False
    for workload in workloads:
        for connections in [int(c) for c in args.connections.split(",")]:
            for depth in depths:
                args.pipeline = depth
                runs = {name: [None] * args.repeats for name, _, _ in table[workload]}
                for repeat in range(args.repeats):
                    for name, command, compare in table[workload]:
                        try:
                            r = run(args, command, connections, workload, compare)
                        except Exception as error:  # one failed server must not lose the others' figures
                            print(f"{workload} {connections}x{depth} {name} run {repeat + 1}: FAILED: {error}",
                                  file=sys.stderr)
                            continue
                        runs[name][repeat] = r
                        print(f"{workload} {connections}x{depth} {name} run {repeat + 1}: {r['rps']:,.0f}/s, "
                              f"p50 {r['p50']:,.0f} µs, {r['errors']} errors, {r['cpu']:.2f} µs CPU/request, "
                              f"server core {r['server_busy']:.0%} busy, generator core {r['busy']:.0%}",
                              file=sys.stderr, flush=True)
                reference = runs[table[workload][0][0]]
                for name, _, _ in table[workload]:
                    rs = [r for r in runs[name] if r]
                    if not rs:
                        print(f"| {workload} | {connections:,} | {depth} | {name} | failed | | | | | | | | |", flush=True)
                        continue
                    median = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu", "server_busy")}
                    pairs = [(r, c) for r, c in zip(runs[name], reference) if r and c]
                    busiest = max(r["busy"] for r in rs)
                    bound |= busiest > 0.9
                    print(f"| {workload} | {connections:,} | {depth} | {name} | {median['rps']:,.0f} | "
                          f"{ratios(pairs, 'rps')} | {median['p50']:,.0f} µs | {median['p99']:,.0f} µs | "
                          f"{sum(r['errors'] for r in rs)} | {median['cpu']:.2f} µs | {ratios(pairs, 'cpu')} | "
                          f"{median['server_busy']:.0%} | {busiest:.1%}{' ‡' if busiest > 0.9 else ''} |", flush=True)
    print()
    if any("†" in name for w in workloads for name, _, _ in table[w]):
        print("† answers split by the protocol's lengths and checked for consistent lengths "
              "(`conduit load --compare semantic` with --generator conduit): same data, other bytes; "
              "all others compared byte for byte.")
    if bound:
        print("‡ the generator's core was above 90 % busy in at least one run (the busiest run is shown): "
              "the row's requests/s are the generator's pace, not the server's.")


def ratios(pairs, key):
    """The median over the repeats of each run's `key` over the C server's in the same
    repeat, with the range: ratios within one repeat cancel the machine's slow drift."""
    values = sorted(r[key] / c[key] for r, c in pairs if c[key])
    if not values:
        return "—"
    middle = f"{statistics.median(values):.2f}"
    return middle if len(values) == 1 else f"{middle} [{values[0]:.2f}–{values[-1]:.2f}]"

if __name__ == "__main__":
    main()
