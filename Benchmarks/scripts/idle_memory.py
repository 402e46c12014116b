#!/usr/bin/env python3
"""Memory a server holds per idle connection: its resident memory (VmRSS) after N
loopback connections that send nothing, minus before, divided by N. Kernel socket
memory is not in RSS; this is what the server's own code costs.

usage: idle_memory.py [--conduit PATH] [--connections 10000] [--server app|echo|c-echo|c-app]
                      [--backend shim|swift|uring]
The connections come from this process, 20,000 per loopback source address (it raises
its own open-file limit as far as allowed, and the server's with prlimit when root). Only loopback is used; the server started here is stopped by its PID.
"""

import argparse
import os
import resource
import shutil
import socket
import subprocess
import time

from procstat import rss_bytes, stop


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--server", default="app", choices=["app", "echo", "c-echo", "c-app"])
    parser.add_argument("--backend", default="shim", choices=["shim", "swift", "uring"], help="Conduit's servers only")
    options = parser.parse_args()
    commands = {
        "app": [options.conduit, "app-server", "127.0.0.1", "0", "--log-level", "warning", "--backend", options.backend],
        "echo": [options.conduit, "multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", options.backend],
        "c-echo": ["Benchmarks/C/echo_server", "0"],
        "c-app": ["Benchmarks/C/app_server", "0"],
    }
    files = options.connections + 1000
    command = commands[options.server]
    try:
        # Root with CAP_SYS_RESOURCE may raise hard limits (its own, the server's).
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
        if shutil.which("prlimit"):
            command = ["prlimit", f"--nofile={files}:{files}"] + command
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < files:
            raise SystemExit(f"{options.connections} connections need {files} open files; this process may have "
                             f"{hard} (measure fewer: the figure per connection does not depend on the count)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, hard))
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1].split()[0])
        # A first connection warms up what every connection shares (buffers, tables).
        warm = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.5)
        before = rss_bytes(server.pid)
        sockets = []
        for index in range(options.connections):
            # 20,000 per source address: one address's ephemeral ports run out near 28,000.
            source = f"127.0.0.{2 + index // 20_000}"
            sockets.append(socket.create_connection(("127.0.0.1", port), source_address=(source, 0)))
        time.sleep(1.0)
        after = rss_bytes(server.pid)
        per = (after - before) / options.connections
        print(f"{options.server}: {options.connections} idle connections, RSS {before / 2**20:.1f} -> "
              f"{after / 2**20:.1f} MiB, {per:,.0f} B per connection")
        for sock in sockets + [warm]:
            sock.close()
    finally:
        stop(server)


if __name__ == "__main__":
    main()
