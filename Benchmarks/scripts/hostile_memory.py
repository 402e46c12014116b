#!/usr/bin/env python3
"""Measures what hostile peers make `conduit app-server` hold in memory (RELIABILITY.md).

    partial:   N clients each announce a 16 MiB binary message and send all but its
               last byte, then wait.
    bigsearch: N clients each send one search of ~16 MiB whose answer is twice as large
               (every character of the value is a quote, escaped in the answer), and
               never read it.

Prints the server's resident memory while the clients hold on, after they close, and
how long a bystander's search then takes. Loopback only; the server is started here and
ended by its PID.

    python3 Benchmarks/scripts/hostile_memory.py .build/release/conduit partial 32 [server flags…]
"""
import json
import socket
import struct
import subprocess
import sys
import time

SIZE = 16 << 20


def frame(content, content_type, encoding):
    header = json.dumps({"byteorder": "little", "content-type": content_type,
                         "content-encoding": encoding, "content-length": len(content)}).encode()
    return struct.pack(">H", len(header)) + header + content


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return -1


def main():
    binary, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    server = subprocess.Popen([binary, "app-server", "127.0.0.1", "0", "--log-level", "error", *sys.argv[4:]],
                              stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline().split(b":")[-1])
        idle = rss_mb(server.pid)
        if mode == "partial":
            message = frame(b"x" * SIZE, "binary/custom-client-binary-type", "binary")[:-1]
        else:
            value = '"' * (SIZE // 2 - 64)
            message = frame(json.dumps({"action": "search", "value": value}).encode(), "text/json", "utf-8")
        clients, refused = [], 0
        for _ in range(count):
            client = socket.create_connection(("127.0.0.1", port))
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.settimeout(5)
            try:
                client.sendall(message)
            except OSError:
                refused += 1  # the server stopped reading (budget) or refused the message
            clients.append(client)
        time.sleep(2)
        held = rss_mb(server.pid)
        for client in clients:
            client.close()
        time.sleep(3)
        after = rss_mb(server.pid)
        bystander = socket.create_connection(("127.0.0.1", port))
        bystander.settimeout(10)
        started = time.time()
        bystander.sendall(frame(json.dumps({"action": "search", "value": "morpheus"}).encode(), "text/json", "utf-8"))
        answered = len(bystander.recv(1000)) > 0
        waited = (time.time() - started) * 1000
        print(f"{mode} x{count}: idle {idle} MB, held {held} MB, after close {after} MB; "
              f"{refused} sends did not complete in 5 s; bystander answered={answered} in {waited:.0f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
