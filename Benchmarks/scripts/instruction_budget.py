#!/usr/bin/env python3
"""Instructions and allocations per request of Conduit's servers, counted by callgrind,
checked against the budgets in Benchmarks/budgets.json. Exits 1 when a figure is over
its budget, so CI fails on a regression. Counts, not seconds: the same binary and inputs
give nearly the same counts on a busy machine.

Each server runs under `valgrind --tool=callgrind` twice, serving a fixed number of
requests from 100 loopback connections (one request in flight on each, sent in rounds);
the figure per request is the difference between the two runs divided by the difference
in requests, so start-up and shutdown cancel out. Allocations are the calls into malloc,
calloc, realloc, posix_memalign and aligned_alloc found in callgrind's call graph.
Over TLS (echo-tls: TLS 1.3, driven by Python's ssl) the instructions budgeted are those
outside libssl and libcrypto: OpenSSL's own count depends on the CPU it runs on.

usage: instruction_budget.py [--conduit PATH] [--budgets FILE] [--only NAME,…] [--write]
                             [--floors] [--keep DIR]
  --write   records the measured figures (plus 10 % headroom) as the new budgets.
  --floors  measures the minimal C servers too (make -C Benchmarks/C) and prints ratios.
  --keep    keeps the callgrind files (callgrind_annotate FILE shows where it went).
The server binary is copied with `objcopy --strip-debug` first: valgrind 3.19 cannot
read Swift's DWARF 5 line tables, and the code is the same.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
# How the requests are sent: over this many connections (the budgets are for 100).
DRIVE = {"connections": 100}
SMALL, LARGE = 2_000, 6_000

SEARCH_CONTENT = b'{"action": "search", "value": "morpheus"}'
SEARCH_HEADER = json.dumps({"byteorder": "little", "content-type": "text/json",
                            "content-encoding": "utf-8", "content-length": len(SEARCH_CONTENT)}).encode()
SEARCH_REQUEST = struct.pack(">H", len(SEARCH_HEADER)) + SEARCH_HEADER + SEARCH_CONTENT
ECHO_REQUEST = bytes(range(64))


def read_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError(f"the server closed after {len(data)} of {count} bytes")
        data += chunk
    return bytes(data)


def read_app_response(sock):
    (header_length,) = struct.unpack(">H", read_exact(sock, 2))
    header = json.loads(read_exact(sock, header_length))
    content = read_exact(sock, header["content-length"])
    if b"Follow the white rabbit" not in content:
        raise RuntimeError(f"unexpected answer {content!r}")


def read_echo_response(sock):
    if read_exact(sock, len(ECHO_REQUEST)) != ECHO_REQUEST:
        raise RuntimeError("the echo differs from what was sent")


WORKLOADS = {
    # name: (server binary (None: conduit), its arguments, request bytes, response reader)
    "app-search": (None, ["app-server", "127.0.0.1", "0", "--log-level", "warning"], SEARCH_REQUEST, read_app_response),
    "echo": (None, ["multiconn-server", "127.0.0.1", "0", "--quiet"], ECHO_REQUEST, read_echo_response),
    # TLS 1.3 (the driver is Python's ssl); {cert} and {key} are made for the run. The
    # handshakes are in both runs, so the difference is the cost of a request.
    "echo-tls": (None, ["multiconn-server", "127.0.0.1", "0", "--quiet", "--tls-cert", "{cert}", "--tls-key", "{key}"],
                 ECHO_REQUEST, read_echo_response),
}
# The floors: the minimal C servers of Benchmarks/C, measured the same way, for the
# ratio printed beside each figure (no budget: they are not ours to regress).
FLOORS = {
    "app-search": ("Benchmarks/C/app_server", ["0"], SEARCH_REQUEST, read_app_response),
    "echo": ("Benchmarks/C/echo_server", ["0"], ECHO_REQUEST, read_echo_response),
    "echo-tls": ("Benchmarks/C/tls_echo_server", ["0", "{cert}", "{key}"], ECHO_REQUEST, read_echo_response),
}
# The TLS client context of the "-tls" workloads (set in main, trusting the run's certificate).
TLS = {"context": None}


def make_certificate(workdir):
    """A self-signed ECDSA P-256 certificate for 127.0.0.1, made for the run."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def drive(port, request, read_response, total, tls=False):
    """Sends `total` requests over DRIVE["connections"] connections, one in flight on each."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(DRIVE["connections"])]
    if tls:
        sockets = [TLS["context"].wrap_socket(sock, server_hostname="127.0.0.1") for sock in sockets]
    try:
        for _ in range(total // len(sockets)):
            for sock in sockets:
                sock.sendall(request)
            for sock in sockets:
                read_response(sock)
    finally:
        for sock in sockets:
            sock.close()


# What is budgeted: for plaintext, every instruction; over TLS, those outside OpenSSL
# (the glue, the loop, the handler), since OpenSSL picks its AES and hash code by the
# CPU's features and its count moves from host to host. Its allocations do not.
BUDGETED = {False: ("instructions", "allocations"), True: ("outside_openssl", "allocations")}


def figures_of(workload):
    """What is printed for a workload: its budgeted figures, and all instructions."""
    budgeted = BUDGETED[workload.endswith("-tls")]
    return budgeted if "instructions" in budgeted else ("instructions",) + budgeted


# The libraries whose instructions the "outside OpenSSL" figure leaves out.
OPENSSL_OBJECTS = ("libssl.so", "libcrypto.so")


def parse_callgrind(path):
    """From one callgrind output file: total instructions, calls into the allocator, and
    the instructions executed outside OpenSSL's libraries (every function's own cost,
    summed by the object it is in)."""
    names, objects, instructions, allocations = {}, {}, None, 0
    callee = None
    in_openssl = 0
    current_object, call_cost_next = "", False
    with open(path) as f:
        for line in f:
            first = line[:1]
            if first.isdigit() or first in "+-*":
                # A cost line: the one after `calls=` is the call's inclusive cost,
                # counted where the callee's own lines are.
                fields = line.split()
                if call_cost_next:
                    call_cost_next = False
                elif len(fields) > 1 and any(o in current_object for o in OPENSSL_OBJECTS):
                    in_openssl += int(fields[-1])
            elif line.startswith("summary:") or line.startswith("totals:"):
                instructions = int(line.split()[1])
            elif line.startswith("ob="):
                current_object = name_of(line[3:].strip(), objects)
            elif line.startswith("cob="):
                name_of(line[4:].strip(), objects)
            elif line.startswith("cfn="):
                callee = name_of(line[4:].strip(), names)
            elif line.startswith("fn="):
                name_of(line[3:].strip(), names)
                callee = None
            elif line.startswith("calls="):
                call_cost_next = True
                if callee in ALLOCATORS:
                    allocations += int(line[6:].split()[0])
                callee = None
    if instructions is None:
        raise RuntimeError(f"no totals in {path}")
    return instructions, allocations, instructions - in_openssl


def name_of(text, names):
    """Resolves callgrind's name compression: `(12) malloc` defines 12, `(12)` uses it."""
    if text.startswith("("):
        ident, _, rest = text.partition(")")
        rest = rest.strip()
        if rest:
            names[ident] = rest
        return names.get(ident, rest)
    return text


def measure_once(server_binary, arguments, request, read_response, name, total, workdir):
    out = os.path.join(workdir, f"{name}-{total}.callgrind")
    errors_path = os.path.join(workdir, f"{name}-{total}.stderr")
    errors = open(errors_path, "w")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", server_binary] + arguments,
        stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        deadline = time.monotonic() + 120
        port = None
        while port is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            if "Listening on" in line:
                port = int(line.strip().rsplit(":", 1)[1].split()[0])
        if port is None:
            with open(errors_path) as f:
                said = f.read()[-2000:]
            raise RuntimeError(f"{name}: the server did not start under valgrind; it said:\n{said}")
        # Whatever else it prints must not fill the pipe and stall it.
        threading.Thread(target=server.stdout.read, daemon=True).start()
        drive(port, request, read_response, total, tls=name.endswith("-tls"))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        errors.close()
    return parse_callgrind(out)


def measure(server_binary, arguments, request, read_response, name, workdir):
    small = measure_once(server_binary, arguments, request, read_response, name, SMALL, workdir)
    large = measure_once(server_binary, arguments, request, read_response, name, LARGE, workdir)
    requests = LARGE - SMALL
    return {"instructions": round((large[0] - small[0]) / requests),
            "allocations": round((large[1] - small[1]) / requests, 2),
            "outside_openssl": round((large[2] - small[2]) / requests)}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--budgets", default=os.path.join(here, "..", "budgets.json"))
    parser.add_argument("--only", help="workloads to measure, comma-separated (default: those with a budget; "
                        f"all: {','.join(WORKLOADS)})")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--connections", type=int, default=100,
                        help="connections (budgets are for 100; 1 gives steadier figures for comparing two builds: "
                             "every request is one wake-up, where at 100 the batching varies by a few percent)")
    parser.add_argument("--floors", action="store_true",
                        help="also measure the C servers of Benchmarks/C (make -C Benchmarks/C first) for ratios")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files in DIR (for callgrind_annotate)")
    parser.add_argument("--keep-debug", action="store_true",
                        help="run the binary as built, with its debug info, for line-level annotation: for a "
                             "DWARF 4 build (swift build -c release --scratch-path .build-dwarf4 -Xswiftc -g "
                             "-Xswiftc -dwarf-version=4 -Xcc -gdwarf-4), which valgrind can read")
    options = parser.parse_args()
    DRIVE["connections"] = options.connections

    with open(options.budgets) as f:
        budgets = json.load(f)
    only = options.only or ",".join(w for w in WORKLOADS if w in budgets["per_request"])
    failed = False
    with tempfile.TemporaryDirectory() as workdir:
        binary = os.path.join(workdir, "conduit")
        subprocess.run(["objcopy"] + ([] if options.keep_debug else ["--strip-debug"]) + [options.conduit, binary],
                       check=True)
        cert_path, key_path = make_certificate(workdir)
        TLS["context"] = ssl.create_default_context(cafile=cert_path)
        fill = lambda arguments: [a.replace("{cert}", cert_path).replace("{key}", key_path) for a in arguments]
        for workload in only.split(","):
            _, arguments, request, read_response = WORKLOADS[workload]
            arguments = fill(arguments)
            figures = measure(binary, arguments, request, read_response, workload, workdir)
            floor = None
            if options.floors:
                c_binary, c_arguments, _, _ = FLOORS[workload]
                floor = measure(c_binary, fill(c_arguments), request, read_response, f"c-{workload}", workdir)
            budget = budgets["per_request"].get(workload, {})
            for key in figures_of(workload):
                limit = budget.get(key)
                verdict = "no budget" if limit is None else ("ok" if figures[key] <= limit else "OVER BUDGET")
                failed |= verdict == "OVER BUDGET"
                versus = ""
                if floor is not None:
                    ratio = f"{figures[key] / floor[key]:.2f}x" if floor[key] else "-"
                    versus = f"   C: {floor[key]} ({ratio})"
                print(f"{workload:12} {key:15} {figures[key]:>10} per request   budget {limit}   {verdict}{versus}")
            if options.keep:
                os.makedirs(options.keep, exist_ok=True)
                for name in [workload] + ([f"c-{workload}"] if options.floors else []):
                    for total in (SMALL, LARGE):
                        shutil.copy(os.path.join(workdir, f"{name}-{total}.callgrind"), options.keep)
            if options.write:
                budgets["per_request"][workload] = {
                    key: round(figures[key] * 1.1 + 0.05, 2) if key == "allocations" else int(figures[key] * 1.1) + 1
                    for key in BUDGETED[workload.endswith("-tls")]}
    if options.write:
        with open(options.budgets, "w") as f:
            json.dump(budgets, f, indent=2)
            f.write("\n")
        print(f"budgets written to {options.budgets}")
    return 1 if failed and not options.write else 0


if __name__ == "__main__":
    sys.exit(main())
