#!/usr/bin/env python3
"""One machine, many connections (issue 21): `conduit app-server --processes N` and
`conduit load --processes N --source-addresses M` on loopback, with what it costs.

While the load runs, once a second: /proc/net/sockstat (TCP sockets in use, kernel
socket memory), and the RSS of the server's and the load's process trees (each parent
and its workers). At the end: the load's own figures (connections up, answered at least
once, time to establish, requests/s) and, from the second when the most sockets were
open, memory per connection for server and load and the kernel's socket memory.

usage: million.py [--conduit PATH] [--connections 1000000] [--server-processes 56]
                  [--load-processes 56] [--source-addresses 40] [--connect-rate 40000]
                  [--rate 50000] [--duration 60] [--json FILE]

Nothing here changes a system setting: each process may open 20,000 files, so the
connections are spread over processes (and over source addresses 127.0.0.1 … 127.0.0.M
for the ephemeral ports). Loopback only; every process started is stopped by its PID.
Not in CI: a million connections take minutes and about 10 GiB.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from procstat import stop

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid):
    """`pid` and its children (the workers), from /proc/PID/task/PID/children."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        return [pid]
    return [pid] + [q for child in children for q in tree(child)]


def rss(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def sockstat():
    """TCP sockets in use and the kernel's TCP memory (bytes) from /proc/net/sockstat."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                values = dict(zip(fields[1::2], fields[2::2]))
                return int(values["inuse"]), int(values["mem"]) * PAGE, int(values["tw"])
    return 0, 0, 0


def slab_socket_bytes():
    """Kernel memory of TCP socket objects (slabs TCP, TCPv6, sock_inode_cache, …) from
    /proc/slabinfo where it can be read (root), else None."""
    names = ("TCP", "TCPv6", "sock_inode_cache", "request_sock_TCP", "tw_sock_TCP", "eventpoll_epi", "filp",
             "dentry", "skbuff_head_cache")
    try:
        with open("/proc/slabinfo") as f:
            total = {}
            for line in f:
                fields = line.split()
                if fields and fields[0] in names:
                    total[fields[0]] = int(fields[2]) * int(fields[3])  # num_objs * objsize
            return total
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--connections", type=int, default=1_000_000)
    parser.add_argument("--server-processes", type=int, default=56)
    parser.add_argument("--load-processes", type=int, default=56)
    parser.add_argument("--source-addresses", type=int, default=40)
    parser.add_argument("--connect-rate", type=int, default=40_000)
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()

    before_slabs = slab_socket_bytes()
    server = subprocess.Popen(
        [args.conduit, "app-server", "127.0.0.1", "0", "--processes", str(args.server_processes),
         "--log-level", "error", "--header-timeout", "0", "--message-timeout", "0", "--idle-timeout", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started = time.monotonic()
    line = server.stdout.readline()
    if "Listening on" not in line:
        stop(server)
        sys.exit(f"the server did not start: {line!r}")
    port = int(line.split(":")[-1].split()[0])
    print(f"server: {args.server_processes} processes listening after {time.monotonic() - started:.1f} s", file=sys.stderr)
    threading.Thread(target=server.stdout.read, daemon=True).start()
    time.sleep(1)
    idle_server = rss(tree(server.pid))
    base_tcp, base_mem, _ = sockstat()

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        report_path = f.name
    load = subprocess.Popen(
        [args.conduit, "load", "--target", f"127.0.0.1:{port}", "--connections", str(args.connections),
         "--processes", str(args.load_processes), "--source-addresses", str(args.source_addresses),
         "--connect-rate", str(args.connect_rate), "--rate", str(args.rate), "--duration", f"{args.duration}s",
         "--json", report_path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    try:
        while load.poll() is None:
            time.sleep(1)
            tcp, mem, tw = sockstat()
            sample = {"t": round(time.monotonic() - started, 1), "tcp_inuse": tcp, "tcp_mem": mem, "tw": tw,
                      "server_rss": rss(tree(server.pid)), "load_rss": rss(tree(load.pid)),
                      "available": available_memory()}
            samples.append(sample)
            print(json.dumps(sample), file=sys.stderr, flush=True)
            if len(samples) > args.duration + 3600:
                load.kill()
        peak = max(samples, key=lambda s: s["tcp_inuse"]) if samples else None
        slabs = slab_socket_bytes() if peak else None
        out, err = load.communicate()
    finally:
        if load.poll() is None:
            stop(load)
        stop(server, timeout=120)
    with open(report_path) as f:
        report = json.load(f)
    os.unlink(report_path)
    up = report["connections_up"]
    # Memory per connection as the slope while connections opened: from the first second
    # with a tenth of them up to the first with all of them (each connection is two
    # sockets here, both ends on this machine), so the processes' own start-up is not
    # counted in it.
    opening = [s for s in samples if s["tcp_inuse"] - base_tcp >= 0.2 * up]
    first = opening[0] if opening else None
    full = next((s for s in samples if s["tcp_inuse"] - base_tcp >= 2 * up * 0.999), None)
    def slope(key):
        if not first or not full or full is first:
            return None
        return round((full[key] - first[key]) / ((full["tcp_inuse"] - first["tcp_inuse"]) / 2))
    figures = {
        "connections": args.connections, "connections_up": up,
        "connections_answered": report.get("connections_answered"),
        "established_in_s": round(report["connect_ms"] / 1000, 1),
        "requests": report["requests"], "requests_per_second": round(report["requests_per_second"]),
        "errors": report["error_count"],
        "server_bytes_per_connection": slope("server_rss"),
        "load_bytes_per_connection": slope("load_rss"),
        "server_rss_at_peak": peak["server_rss"] if peak else None, "server_rss_idle": idle_server,
        "load_rss_at_peak": peak["load_rss"] if peak else None,
        "kernel_tcp_bytes_per_connection": round((peak["tcp_mem"] - base_mem) / max(up, 1)) if peak else None,
        "tcp_sockets_in_use_at_peak": peak["tcp_inuse"] - base_tcp if peak else None,
        "tcp_mem_bytes_at_peak": peak["tcp_mem"] - base_mem if peak else None,
        "slabs_before": before_slabs, "slabs_at_end": slabs,
        "load_stdout_tail": out[-2500:], "load_stderr_tail": err[-1500:],
    }
    # Requests/s while every connection was open: the seconds of the load's own series
    # with all of them up (the first and last such second left out: partial).
    steady = [entry["requests"] for entry in report.get("series", []) if entry.get("connections_up") == args.connections]
    steady = steady[1:-1]
    figures["steady_seconds"] = len(steady)
    figures["steady_requests_per_second"] = round(sum(steady) / len(steady)) if steady else None
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"figures": figures, "samples": samples}, f, indent=1)


def available_memory():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
