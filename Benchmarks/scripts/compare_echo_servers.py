#!/usr/bin/env python3
"""Compares echo servers under the same `conduit load --workload echo`: Conduit's
`multiconn-server` (shim and swift backends), Conduit's async face
(Benchmarks/Sources/AsyncEchoServer: an `AsyncServer`, a task per connection) and a
SwiftNIO echo server (Benchmarks/Sources/NIOEchoServer). Reports requests/s, p50, p99 and the server's CPU
time per request (user+system from /proc/PID/stat over the run, divided by requests).
Server on core 0, load on core 1.

usage: compare_echo_servers.py [--conduit PATH] [--nio PATH] [--connections 1,100,1000]
                               [--duration 10] [--size 64] [--repeat 3] [--generator c|conduit]
The load is Benchmarks/C/load_generator (make -C Benchmarks/C) unless --generator conduit.
Only loopback is used; every process started here is stopped by its PID.
"""

import argparse

# The server start, the load run and the /proc reading are compare_servers.py's (issue
# 11's harness); this script keeps its own set of echo servers and its per-run table.
from compare_servers import run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--nio", default="Benchmarks/.build/release/NIOEchoServer")
    parser.add_argument("--async-server", default="Benchmarks/.build/release/AsyncEchoServer")
    parser.add_argument("--connections", default="1,100,1000")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--generator", choices=["c", "conduit"], default="c")
    parser.add_argument("--c-generator", default="Benchmarks/C/load_generator")
    args = parser.parse_args()
    args.pipeline = 1
    servers = [
        ("conduit (shim)", [args.conduit, "multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "shim"]),
        ("conduit (swift)", [args.conduit, "multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "swift"]),
        ("conduit async (shim)", [args.async_server, "0"]),
        ("SwiftNIO 2.101.3", [args.nio, "0"]),
    ]
    print("| connections | run | server | requests/s | p50 | p99 | errors | server CPU/request | vs NIO |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for connections in [int(c) for c in args.connections.split(",")]:
        for repeat in range(1, args.repeat + 1):
            rows = [(name, run(args, command, connections, "echo", "exact")) for name, command in servers]
            nio = rows[-1][1]["cpu"]
            for name, r in rows:
                print(f"| {connections:,} | {repeat} | {name} | {r['rps']:,.0f} | {r['p50']:,.0f} µs | {r['p99']:,.0f} µs | "
                      f"{r['errors']} | {r['cpu']:.2f} µs | {r['cpu'] / nio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
