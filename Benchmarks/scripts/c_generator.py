"""The comparison scripts' default load: Benchmarks/C/load_generator (one C thread on
epoll, pipelined, every answer checked), fed with the request and answer bytes of a
workload, written here in the tutorial's own format (Python's json.dumps, which is the
spec), so the generator needs no JSON of its own."""

import json
import os
import struct
import subprocess
import sys
import tempfile

# The tutorial's search table: the three keys `conduit load --workload search` sends too.
SEARCH_TABLE = {"morpheus": "Follow the white rabbit. \U0001f430",
                "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
                "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0"}


def app_message(content):
    """One application-protocol message with a text/json content, as the tutorial writes it."""
    body = json.dumps(content, ensure_ascii=False).encode()
    header = json.dumps({"byteorder": sys.byteorder, "content-type": "text/json",
                         "content-encoding": "utf-8", "content-length": len(body)}, ensure_ascii=False).encode()
    return struct.pack(">H", len(header)) + header + body


def workload_pairs(workload, size=64):
    """[(request bytes, answer bytes or None for echo)] for `workload`: three variants whose
    answers differ, so an answer out of step is caught."""
    if workload == "search":
        return [(app_message({"action": "search", "value": key}), app_message({"result": answer}))
                for key, answer in SEARCH_TABLE.items()]
    if workload == "echo":
        return [(bytes(ord("a") + (i + variant) % 26 for i in range(size)), None) for variant in range(3)]
    raise ValueError(f"the C generator has no workload {workload!r}")


def run(generator, port, workload, connections, depth, duration, size=64, exact=True, core="1"):
    """Loads 127.0.0.1:port for `duration` s from `core`; returns the generator's JSON report
    (requests, requests_per_second, errors, p50_us, p99_us, busy). With exact=False the
    answers are split by the application protocol's lengths instead of compared byte for
    byte (servers whose JSON differs from the tutorial's)."""
    with tempfile.TemporaryDirectory() as directory:
        arguments = []
        for i, (request, answer) in enumerate(workload_pairs(workload, size)):
            request_path = os.path.join(directory, f"request{i}")
            with open(request_path, "wb") as f:
                f.write(request)
            arguments += ["--request", request_path]
            if answer is not None and exact:
                answer_path = os.path.join(directory, f"answer{i}")
                with open(answer_path, "wb") as f:
                    f.write(answer)
                arguments += ["--answer", answer_path]
        if not exact:
            arguments += ["--framing", "app"]
        done = subprocess.run(
            ["taskset", "-c", core, generator, "--target", f"127.0.0.1:{port}", "--connections", str(connections),
             "--depth", str(depth), "--duration", str(duration)] + arguments,
            capture_output=True, text=True, timeout=duration + 120, check=False)
    if not done.stdout.strip():
        raise RuntimeError(f"load_generator exited {done.returncode}: {done.stderr.strip()[-400:]}")
    report = json.loads(done.stdout)
    if report["errors"]:
        print(done.stderr.strip()[-400:], file=sys.stderr)
    return report


def main():
    """Writes a workload's request and answer files for running the generator by hand,
    and prints the command that uses them."""
    import argparse
    parser = argparse.ArgumentParser(description="Writes the request and answer files of a workload for "
                                     "Benchmarks/C/load_generator and prints the command that uses them.")
    parser.add_argument("--workload", choices=["search", "echo"], default="search")
    parser.add_argument("--size", type=int, default=64, help="echo payload bytes")
    parser.add_argument("--directory", required=True, help="where to write request0, answer0, …")
    parser.add_argument("--port", default="PORT", help="the server's port, for the printed command")
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    command = ["Benchmarks/C/load_generator", "--target", f"127.0.0.1:{args.port}", "--connections", "100",
               "--depth", "16", "--duration", "5"]
    for i, (request, answer) in enumerate(workload_pairs(args.workload, args.size)):
        with open(os.path.join(args.directory, f"request{i}"), "wb") as f:
            f.write(request)
        command += ["--request", os.path.join(args.directory, f"request{i}")]
        if answer is not None:
            with open(os.path.join(args.directory, f"answer{i}"), "wb") as f:
                f.write(answer)
            command += ["--answer", os.path.join(args.directory, f"answer{i}")]
    print(" ".join(command))


if __name__ == "__main__":
    main()
