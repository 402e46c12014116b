#!/usr/bin/env python3
"""How long one large JSON request holds `conduit app-server`'s loop (RELIABILITY.md).

A bystander sends a search every millisecond on its own connection and records the
slowest answer while an offender sends one ~16 MiB JSON request:

    tiny:    {"action": "search", "value": [0,0,0,…]}   (about 8 million values)
    allowed: 99,990 tiny values and one long string, just inside the default limits
    string:  one 16 MiB string value

Loopback only; the server is started here (one loop) and ended by its PID.

    python3 Benchmarks/scripts/loop_stall.py .build/release/conduit tiny [server flags…]
"""
import json
import socket
import struct
import subprocess
import sys
import threading
import time

SIZE = 16 << 20


def frame(content):
    header = json.dumps({"byteorder": "little", "content-type": "text/json",
                         "content-encoding": "utf-8", "content-length": len(content)}).encode()
    return struct.pack(">H", len(header)) + header + content


def offender_content(kind):
    if kind == "tiny":
        values = b",".join([b"0"] * ((SIZE - 64) // 2))
        return b'{"action": "search", "value": [' + values + b"]}"
    if kind == "allowed":
        values = b",".join([b"0"] * 99_990)
        pad = b"x" * (SIZE - len(values) - 128)
        return b'{"action": "search", "value": [' + values + b'], "pad": "' + pad + b'"}'
    return b'{"action": "search", "value": "' + b"x" * (SIZE - 64) + b'"}'


def main():
    binary, kind = sys.argv[1], sys.argv[2]
    server = subprocess.Popen([binary, "app-server", "127.0.0.1", "0", "--log-level", "error", *sys.argv[3:]],
                              stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline().split(b":")[-1])
        request = frame(json.dumps({"action": "search", "value": "morpheus"}).encode())
        bystander = socket.create_connection(("127.0.0.1", port))
        bystander.settimeout(30)
        slowest = [0.0]
        stop = threading.Event()

        def ping():
            while not stop.is_set():
                started = time.perf_counter()
                bystander.sendall(request)
                bystander.recv(1000)
                slowest[0] = max(slowest[0], time.perf_counter() - started)
                time.sleep(0.001)

        pinger = threading.Thread(target=ping)
        pinger.start()
        time.sleep(0.5)
        baseline = slowest[0]
        offender = socket.create_connection(("127.0.0.1", port))
        offender.settimeout(30)
        started = time.perf_counter()
        offender.sendall(frame(offender_content(kind)))
        answer = b""
        while len(answer) < 2 or len(answer) < 2 + struct.unpack(">H", answer[:2])[0]:
            chunk = offender.recv(65536)
            if not chunk:
                break
            answer += chunk
        took = time.perf_counter() - started
        time.sleep(0.3)
        stop.set()
        pinger.join()
        headline = answer[2:2 + 200].decode(errors="replace")
        print(f"{kind}: offender answered in {took * 1000:.0f} ms; bystander slowest answer "
              f"{slowest[0] * 1000:.1f} ms (before the offender: {baseline * 1000:.1f} ms); answer starts {headline[:90]!r}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
