#!/usr/bin/env python3
"""Runs `conduit load` against `conduit app-server` at several connection counts, for
both backends, and prints a Markdown table: requests/s, p50, p99, the server's CPU time
per request (user+system from /proc/PID/stat over the run, divided by requests served)
and memory per connection on both sides (RSS growth / connections).

Server processes are pinned to core 0 and load processes to core 1 (taskset). Runs
above 15,000 connections use several processes on each side (the 20,000 open-file
limit per process) and several loopback source addresses (5,000 connections each: the kernel's
free-port search in connect() slows down sharply as one address's ports fill).

usage: load_matrix.py [--binary PATH] [--connections 1,100,1000] [--backends shim,swift]
                      [--duration 10] [--repeat 1]
Only loopback addresses are used; every process started here is stopped by its PID.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from procstat import cpu_seconds, rss_bytes, stop



def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []




def start_server(binary, backend, processes):
    command = ["taskset", "-c", "0", binary, "app-server", "127.0.0.1", "0", "--log-level", "error",
               "--backend", backend, "--processes", str(processes)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if not line.startswith("Listening on "):
        server.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    port = int(line.split(":")[1].split()[0])
    workers = children(server.pid) if processes > 1 else [server.pid]
    return server, port, workers


def run_one(binary, backend, connections, duration):
    processes = max(1, math.ceil(connections / 15000))
    sources = max(1, math.ceil(connections / 5000))
    server, port, workers = start_server(binary, backend, processes)
    try:
        time.sleep(0.3)
        rss_before = rss_bytes(workers)
        cpu_before = cpu_seconds(workers)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            json_path = f.name
        command = ["taskset", "-c", "1", binary, "load", "--target", f"127.0.0.1:{port}",
                   "--connections", str(connections), "--duration", f"{duration}s", "--backend", backend,
                   "--processes", str(processes), "--source-addresses", str(sources), "--quiet",
                   "--json", json_path]
        if connections >= 10000:
            command += ["--connect-rate", "20000"]
        load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Sample the server's memory while every connection is open.
        peak_rss = rss_before
        deadline = time.time() + duration + 60
        while load.poll() is None and time.time() < deadline:
            time.sleep(0.5)
            peak_rss = max(peak_rss, rss_bytes(workers))
        out, err = load.communicate(timeout=120)
        cpu_after = cpu_seconds(workers)
        with open(json_path) as f:
            result = json.load(f)
        os.unlink(json_path)
        if load.returncode != 0:
            print(f"load exited {load.returncode}: {err.strip()[-500:]}", file=sys.stderr)
        return {
            "backend": backend, "connections": connections, "up": result["connections_up"],
            "requests": result["requests"], "rps": result["requests_per_second"],
            "p50_us": result["latency_ns"]["p50"] / 1000, "p99_us": result["latency_ns"]["p99"] / 1000,
            "errors": result["error_count"], "connect_ms": result["connect_ms"],
            "cpu_us_per_request": (cpu_after - cpu_before) / max(result["requests"], 1) * 1e6,
            "server_rss_per_connection": (peak_rss - rss_before) / connections,
            "processes": processes,
        }
    finally:
        stop(server)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/conduit")
    parser.add_argument("--connections", default="1,100,1000,10000,100000")
    parser.add_argument("--backends", default="shim,swift")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("| backend | connections | processes | up | requests/s | p50 | p99 | errors | connect | server CPU/request | server RSS/connection |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for _ in range(args.repeat):
        for connections in [int(c) for c in args.connections.split(",")]:
            for backend in args.backends.split(","):
                duration = args.duration + (10 if connections >= 50000 else 0)
                r = run_one(args.binary, backend, connections, duration)
                print(f"| {r['backend']} | {r['connections']:,} | {r['processes']} | {r['up']:,} | {r['rps']:,.0f} | "
                      f"{r['p50_us']:,.0f} µs | {r['p99_us']:,.0f} µs | {r['errors']} | {r['connect_ms']:,.0f} ms | "
                      f"{r['cpu_us_per_request']:.2f} µs | {r['server_rss_per_connection']:,.0f} B |", flush=True)


if __name__ == "__main__":
    main()
