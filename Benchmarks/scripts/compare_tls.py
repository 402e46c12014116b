#!/usr/bin/env python3
"""Issue 20's comparison: TLS echo servers under the same `conduit load --tls-ca`, one
markdown table per figure, each the median of --repeats runs. Run through
Benchmarks/compare_tls.sh, which builds everything first.

  servers: C TLS echo on OpenSSL 3 (Benchmarks/C/tls_echo_server, the floor), SwiftNIO
           with NIOSSL (Benchmarks NIOSSLEchoServer), Conduit multiconn-server with
           --tls-cert/--tls-key on its three backends
  figures: echo 64 B at each --connections: requests/s and server CPU per request;
           full handshakes (one request per connection, --no-tls-resume): server CPU per
           handshake and handshakes/s one server core could do (1 / that CPU);
           resumed handshakes (one request per connection): the same, and the share resumed;
           memory per idle TLS connection at --idle-connections: server RSS with them
           open, minus before, divided by their number.

The certificate is an ECDSA P-256 one from a CA made for the run (`openssl` in a
temporary directory, thrown away); TLS 1.3 with X25519 is what every peer negotiates.
Each server runs alone, pinned to core 0; `conduit load` runs pinned to core 1. Server
CPU is its user+system time from /proc/PID/stat over the load run. The load generator
does TLS too, so at one request in flight it may be the bottleneck: compare CPU per
request, not requests/s. Only loopback is used; every process started here is stopped
by its PID.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from procstat import conduit_load_report, cpu_seconds, rss_bytes, stop


def make_certificates(directory):
    """A CA and a certificate it signed for localhost and 127.0.0.1; returns (cert, key, ca)."""
    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], cwd=directory, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext")
    return tuple(os.path.join(directory, name) for name in ("server.pem", "server.key", "ca.pem"))


def start(command):
    """Starts a server on core 0; returns it and the port from its `Listening on` line."""
    server = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if "Listening on" not in line:
        server.kill()
        server.wait()
        raise RuntimeError(f"{command[0]} did not start: {line!r}")
    return server, int(line.strip().rsplit(":", 1)[1].split()[0])


def load(args, port, extra, duration, timeout_margin=120):
    """Runs `conduit load` on core 1 against localhost:port; returns its JSON report, with
    how busy the generator's core was as "generator_busy": above 0.9 the row measures the
    generator, not the server."""
    report, busy = conduit_load_report(
        ["taskset", "-c", "1", args.conduit, "load", "--target", f"localhost:{port}", "--tls-ca", args.ca,
         "--workload", "echo", "--size", "64", "--duration", f"{duration}s", "--quiet"] + extra,
        timeout=duration + timeout_margin)
    report["generator_busy"] = busy
    return report


def measure(args, command, extra, duration):
    """Loads a fresh server; returns the report and the server's CPU seconds over the run."""
    server, port = start(command)
    try:
        time.sleep(0.3)  # its start-up is not counted
        before = cpu_seconds(server.pid)
        report = load(args, port, extra, duration)
        return report, cpu_seconds(server.pid) - before
    finally:
        stop(server)


def idle_memory(args, command, connections):
    """Server RSS per open, idle TLS connection: sampled while `connections` sit idle."""
    server, port = start(command)
    try:
        time.sleep(0.3)
        before = rss_bytes(server.pid)
        duration = 8
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        loader = subprocess.Popen(
            ["taskset", "-c", "1", args.conduit, "load", "--target", f"localhost:{port}", "--tls-ca", args.ca,
             "--workload", "echo", "--size", "64", "--connections", str(connections), "--rate", "1",
             "--duration", f"{duration}s", "--quiet", "--json", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        deadline = time.time() + duration + 60
        while loader.poll() is None and time.time() < deadline:
            samples.append(rss_bytes(server.pid))
            time.sleep(0.25)
        if loader.poll() is None:
            loader.kill()
        loader.wait()
        with open(path) as f:
            report = json.load(f)
        os.unlink(path)
        if report["connections_up"] < connections:
            raise RuntimeError(f"only {report['connections_up']} of {connections} connections came up")
        # The second half of the run: every connection up, handshakes over, idle.
        settled = samples[len(samples) // 2:]
        return (statistics.median(settled) - before) / connections
    finally:
        stop(server)


NIO = "SwiftNIO + NIOSSL echo"


def servers(args):
    tls = ["--tls-cert", args.cert, "--tls-key", args.key]
    conduit = [args.conduit, "multiconn-server", "127.0.0.1", "0", "--quiet"]
    return [
        ("C TLS echo (OpenSSL 3, epoll)", [os.path.join(args.c_dir, "tls_echo_server"), "0", args.cert, args.key]),
        (NIO, [args.nio_ssl, "0", args.cert, args.key]),
        ("Conduit multiconn-server --tls (shim)", conduit + tls + ["--backend", "shim"]),
        ("Conduit multiconn-server --tls (swift)", conduit + tls + ["--backend", "swift"]),
        ("Conduit multiconn-server --tls (uring)", conduit + tls + ["--backend", "uring"]),
    ]


def generator_column(runs):
    """The generator's core, busiest run: above 90 % the row measures the generator (its
    requests/s would be the same for any server; CPU per request still is the server's)."""
    busiest = max((r["busy"] for r in runs), default=None)
    if busiest is None:
        return "–"
    return f"{busiest:.0%}" + (" (generator-bound)" if busiest > 0.9 else "")


def median_of(runs, key):
    values = [r[key] for r in runs]
    return statistics.median(values) if values else None


def table(title, header, rows):
    print(f"### {title}")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def ratio(value, reference):
    return f"{value / reference:.2f} ×" if value is not None and reference else "–"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--nio-ssl", default="Benchmarks/.build/release/NIOSSLEchoServer")
    parser.add_argument("--c-dir", default="Benchmarks/C")
    parser.add_argument("--connections", default="100,1000")
    parser.add_argument("--duration", type=float, default=5, help="seconds per echo run")
    parser.add_argument("--handshake-duration", type=float, default=5, help="seconds per handshake run")
    parser.add_argument("--handshake-connections", type=int, default=20, help="connections at a time in handshake runs")
    parser.add_argument("--idle-connections", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated parts of server names to run besides C")
    parser.add_argument("--figures", default="echo,handshakes,memory")
    args = parser.parse_args()
    figures = args.figures.split(",")
    with tempfile.TemporaryDirectory() as directory:
        args.cert, args.key, args.ca = make_certificates(directory)
        entries = servers(args) if not args.only else [
            e for i, e in enumerate(servers(args)) if i == 0 or any(p in e[0] for p in args.only.split(","))]
        print(f"TLS 1.3, ECDSA P-256 certificate, echo 64 B; server on core 0, `conduit load` on core 1; "
              f"median of {args.repeats}")
        print()
        if "echo" in figures:
            rows = []
            for connections in [int(c) for c in args.connections.split(",")]:
                runs = {name: [] for name, _ in entries}
                for repeat in range(args.repeats):
                    for name, command in entries:
                        try:
                            report, cpu = measure(args, command, ["--connections", str(connections)], args.duration)
                        except Exception as error:
                            print(f"echo {connections} {name}: FAILED: {error}", file=sys.stderr)
                            continue
                        r = {"rps": report["requests_per_second"], "cpu": cpu / max(report["requests"], 1) * 1e6,
                             "errors": report["error_count"], "busy": report["generator_busy"]}
                        runs[name].append(r)
                        print(f"echo {connections} {name} run {repeat + 1}: {r['rps']:,.0f}/s, {r['cpu']:.2f} µs CPU/request, "
                              f"{r['errors']} errors, generator core {r['busy']:.0%} busy", file=sys.stderr, flush=True)
                c_cpu = median_of(runs[entries[0][0]], "cpu")
                nio_cpu = median_of(runs.get(NIO, []), "cpu")
                for name, _ in entries:
                    cpu = median_of(runs[name], "cpu")
                    rps = median_of(runs[name], "rps")
                    errors = sum(r["errors"] for r in runs[name])
                    rows.append([name, f"{connections:,}", f"{rps:,.0f}" if rps else "–", str(errors),
                                 f"{cpu:.2f} µs" if cpu else "–", ratio(cpu, c_cpu), ratio(cpu, nio_cpu),
                                 generator_column(runs[name])])
            table("Echo 64 B over TLS 1.3", ["server", "connections", "requests/s", "errors", "server CPU/request",
                                              "vs C", "vs NIOSSL", "generator core busy"], rows)
        if "handshakes" in figures:
            rows = []
            for kind, extra in [("full", ["--no-tls-resume"]), ("resumed", [])]:
                runs = {name: [] for name, _ in entries}
                for repeat in range(args.repeats):
                    for name, command in entries:
                        try:
                            report, cpu = measure(
                                args, command, ["--connections", str(args.handshake_connections),
                                                "--requests-per-connection", "1"] + extra, args.handshake_duration)
                        except Exception as error:
                            print(f"{kind} handshakes {name}: FAILED: {error}", file=sys.stderr)
                            continue
                        tls = report.get("tls") or {}
                        handshakes = max(tls.get("handshakes", 0), 1)
                        r = {"cpu": cpu / handshakes * 1e6, "resumed": tls.get("resumed", 0) / handshakes,
                             "rate": tls.get("handshakes_per_second", 0), "errors": report["error_count"],
                             "busy": report["generator_busy"]}
                        runs[name].append(r)
                        print(f"{kind} handshakes {name} run {repeat + 1}: {r['rate']:,.0f}/s, {r['cpu']:.1f} µs CPU each, "
                              f"{r['resumed']:.0%} resumed, {r['errors']} errors", file=sys.stderr, flush=True)
                c_cpu = median_of(runs[entries[0][0]], "cpu")
                nio_cpu = median_of(runs.get(NIO, []), "cpu")
                for name, _ in entries:
                    cpu = median_of(runs[name], "cpu")
                    if cpu is None:
                        continue
                    per_core = 1e6 / cpu
                    c_rate = 1e6 / c_cpu if c_cpu else None
                    nio_rate = 1e6 / nio_cpu if nio_cpu else None
                    rows.append([kind, name, f"{median_of(runs[name], 'rate'):,.0f}",
                                 f"{median_of(runs[name], 'resumed'):.0%}", f"{cpu:.1f} µs", f"{per_core:,.0f}",
                                 ratio(per_core, c_rate), ratio(per_core, nio_rate),
                                 str(sum(r["errors"] for r in runs[name])), generator_column(runs[name])])
            table("TLS 1.3 handshakes (one request per connection)",
                  ["handshake", "server", "handshakes/s measured", "resumed", "server CPU/handshake",
                   "handshakes/s per server core", "vs C", "vs NIOSSL", "errors", "generator core busy"], rows)
        if "memory" in figures:
            rows = []
            for name, command in entries:
                try:
                    per = idle_memory(args, command, args.idle_connections)
                except Exception as error:
                    print(f"memory {name}: FAILED: {error}", file=sys.stderr)
                    continue
                print(f"memory {name}: {per:,.0f} bytes per idle TLS connection", file=sys.stderr, flush=True)
                rows.append([name, f"{args.idle_connections:,}", f"{per / 1024:.1f} KiB"])
            table("Memory per idle TLS connection (server RSS)", ["server", "connections", "per connection"], rows)


if __name__ == "__main__":
    main()
