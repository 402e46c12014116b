#!/usr/bin/env python3
"""A server's cost per accepted connection: Benchmarks/C/connect_churn opens connections
one after another (connect, 64 bytes echoed, close) against each server in turn; the
table gives connections/s and the server's CPU µs per connection, medians of --repeats.

  python3 Benchmarks/scripts/accept_churn.py --conduit .build/release/conduit \
      [--conduit before=/tmp/old/.build/release/conduit] [--backends shim,uring]

Each `--conduit [LABEL=]PATH` is a `conduit` binary whose multiconn-server runs on each
of --backends; the C epoll and io_uring echo servers (make -C Benchmarks/C) are the
floors. Servers run pinned to core 0, the client to core 1, one after another within a
repeat. Only loopback is used; every process started here is stopped by its PID.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from compare_servers import start
from procstat import cpu_seconds, stop

HERE = os.path.dirname(os.path.abspath(__file__))
C_DIR = os.path.join(HERE, "..", "C")


def churn(command, count):
    """Runs one server under `count` churned connections; returns (connections/s, CPU µs
    per connection)."""
    server, port = start(command)
    try:
        time.sleep(0.3)
        before = cpu_seconds(server.pid)
        client = subprocess.run(
            ["taskset", "-c", "1", os.path.join(C_DIR, "connect_churn"), str(port), str(count)],
            capture_output=True, text=True, timeout=600, check=False)
        spent = cpu_seconds(server.pid) - before
    finally:
        stop(server)
    if client.returncode != 0:
        raise RuntimeError(f"{command}: connect_churn failed: {client.stderr.strip()}")
    rate = float(client.stdout.split()[0])
    return rate, spent * 1e6 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conduit", action="append", required=True, help="[LABEL=]PATH of a conduit binary")
    parser.add_argument("--backends", default="shim,uring")
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    servers = [("C epoll", [os.path.join(C_DIR, "echo_server"), "0"]),
               ("C io_uring", [os.path.join(C_DIR, "uring_echo_server"), "0"])]
    for spec in args.conduit:
        label, _, path = spec.rpartition("=")
        for backend in args.backends.split(","):
            name = f"{label or 'conduit'} {backend}"
            servers.append((name, [path, "multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", backend]))
    results = {name: [] for name, _ in servers}
    for repeat in range(args.repeats):
        for name, command in servers:
            results[name].append(churn(command, args.connections))
            print(f"repeat {repeat + 1}: {name}: {results[name][-1][0]:.0f}/s, {results[name][-1][1]:.1f} µs",
                  file=sys.stderr)
    reference = statistics.median(cpu for _, cpu in results[servers[0][0]])
    print(f"| server ({args.connections} connections, {args.repeats} repeats) | connections/s | "
          "server CPU µs per connection | vs C epoll |")
    print("|---|---:|---:|---:|")
    for name, _ in servers:
        rate = statistics.median(r for r, _ in results[name])
        cpu = statistics.median(c for _, c in results[name])
        print(f"| {name} | {rate:,.0f} | {cpu:.1f} | {cpu / reference:.2f} |")


if __name__ == "__main__":
    main()
