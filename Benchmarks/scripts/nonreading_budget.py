#!/usr/bin/env python3
"""What clients that send and never read make `conduit app-server` buffer, against its
`--memory-budget` (issue 18: on io_uring it held 3.5-11 times the budget).

N clients each send pipelined search requests as fast as the kernel takes them, and
never read an answer. Once nothing has moved for a second, the server's own count of
buffered bytes (its SIGUSR1 status line) and its resident memory are read. Loopback
only; the server is started here and ended by its PID.

    python3 Benchmarks/scripts/nonreading_budget.py .build/release/conduit uring 50 1MiB
"""
import json
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

CONTENT = b'{"action": "search", "value": "morpheus"}'
HEADER = json.dumps({"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
                     "content-length": len(CONTENT)}).encode()
REQUEST = struct.pack(">H", len(HEADER)) + HEADER + CONTENT
BATCH = REQUEST * 256


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return -1


def main():
    binary, backend, count, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    server = subprocess.Popen(
        [binary, "app-server", "127.0.0.1", "0", "--backend", backend, "--memory-budget", budget,
         "--log-level", "error"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(server.stdout.readline().split(b":")[-1])
        selector = selectors.DefaultSelector()
        clients = []
        for _ in range(count):
            client = socket.create_connection(("127.0.0.1", port))
            client.setblocking(False)
            selector.register(client, selectors.EVENT_WRITE)
            clients.append(client)
        sent = 0
        quiet_since = time.monotonic()
        deadline = time.monotonic() + 60
        # Send until nothing has moved for a second (every client blocked).
        while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                try:
                    n = key.fileobj.send(BATCH)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    selector.unregister(key.fileobj)
                    continue
                if n > 0:
                    sent += n
                    quiet_since = time.monotonic()
        server.send_signal(signal.SIGUSR1)
        line = b""
        while b"bytes buffered" not in line:
            line = server.stderr.readline()
        buffered = int(re.search(rb"(\d+) bytes buffered", line).group(1))
        print(f"{backend:5} {count:5} clients, budget {budget:>5}: sent {sent / 1e6:7.1f} MB, "
              f"server buffered {buffered / 1e6:6.2f} MB, RSS {rss_mb(server.pid):6.1f} MB")
        for client in clients:
            client.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
