#!/usr/bin/env python3
"""Checks the C load generator (Benchmarks/C/load_generator) that compare.sh measures
with, so that its figures can be trusted: on loopback, against the C servers and
`conduit app-server`, each for one second.

  - right answers are counted, pipelined 16 deep, with no error;
  - a wrong answer is caught: search requests sent to an echo server (whose answer is the
    request) exit 1 and name the answer that differs;
  - `--framing app` splits answers by the protocol's lengths and checks them against the
    first answer to the same request;
  - a target off loopback is refused, and so is a number with trailing junk ("1e3").

usage: load_generator_check.py [--conduit .build/release/conduit] [--c-dir Benchmarks/C]
Run `make -C Benchmarks/C` first. Exits 1 on the first check that fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import c_generator
from compare_servers import start
from procstat import stop


def check(condition, what):
    print(f"{'ok' if condition else 'FAILED'}: {what}")
    if not condition:
        sys.exit(1)


def generate(generator, port, workload, depth=16, exact=True):
    """One second of load; the report, or the failure's stderr as {"failed": text}."""
    try:
        return c_generator.run(generator, port, workload, connections=10, depth=depth, duration=1, exact=exact, core="0-1")
    except RuntimeError as error:
        return {"failed": str(error)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--c-dir", default="Benchmarks/C")
    args = parser.parse_args()
    generator = os.path.join(args.c_dir, "load_generator")

    app, app_port = start([os.path.join(args.c_dir, "app_server"), "0"])
    try:
        r = generate(generator, app_port, "search")
        check(r.get("errors") == 0 and r.get("requests", 0) > 1000,
              f"C app server, search, 16 deep: {r.get('requests')} answers, {r.get('errors')} errors")
        r = generate(generator, app_port, "search", exact=False)
        check(r.get("errors") == 0 and r.get("requests", 0) > 1000,
              f"--framing app against the C app server: {r.get('requests')} answers, {r.get('errors')} errors")
    finally:
        stop(app)

    echo, echo_port = start([os.path.join(args.c_dir, "echo_server"), "0"])
    try:
        r = generate(generator, echo_port, "echo", depth=1)
        check(r.get("errors") == 0 and r.get("requests", 0) > 1000,
              f"C echo server, echo, 1 deep: {r.get('requests')} answers, {r.get('errors')} errors")
        r = generate(generator, echo_port, "search")
        check("failed" in r or r.get("errors", 0) > 0,
              "search requests to an echo server: every connection's first answer is wrong and counted")
    finally:
        stop(echo)

    conduit, conduit_port = start([args.conduit, "app-server", "127.0.0.1", "0", "--log-level", "error"])
    try:
        r = generate(generator, conduit_port, "search")
        check(r.get("errors") == 0 and r.get("requests", 0) > 1000,
              f"conduit app-server, search, 16 deep: {r.get('requests')} answers, {r.get('errors')} errors")
    finally:
        stop(conduit)

    with tempfile.NamedTemporaryFile() as request:
        request.write(b"hello")
        request.flush()
        refused = subprocess.run([generator, "--target", "10.0.0.1:80", "--request", request.name],
                                 capture_output=True, text=True, timeout=10)
        check(refused.returncode != 0 and "loopback" in refused.stderr,
              f"a target off loopback is refused: {refused.stderr.strip()}")
        typo = subprocess.run([generator, "--target", "127.0.0.1:9", "--request", request.name, "--connections", "1e3"],
                              capture_output=True, text=True, timeout=10)
        check(typo.returncode == 64 and "1e3" in typo.stderr,
              f"a number with trailing junk is refused, not half read: {typo.stderr.strip()}")


if __name__ == "__main__":
    main()
