#!/usr/bin/env python3
"""Issue 19's comparison: `conduit load` against redis-benchmark, both loading the same
redis-server, one markdown table.

redis-server runs pinned to core 0, each generator pinned to core 1, one at a time. For
each command (PING_INLINE, GET, SET, as redis-benchmark sends them: an inline PING, and
GET/SET of the fixed key `key:__rand_int__` with a 3-byte value), connection count and
pipeline depth, both generators run; the table gives requests/s and the generator's CPU
(user + system, from wait4) per request, and conduit's CPU as a ratio of
redis-benchmark's. Two more rows per setting answer the issue's other questions: conduit's
CPU per request against its own app-server (the same generator on its own protocol),
and with weighted, templated scenarios instead of one fixed request: two kinds of GET
(the same work for redis as the fixed GET, so only the generator's cost differs) and a
90 % GET / 10 % SET mix of Zipf-distributed keys. Each figure is the median of --repeats runs.

    python3 Benchmarks/scripts/compare_redis.py --conduit .build/release/conduit

Only loopback is used; every process started here is stopped by its PID.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    # redis-benchmark's own requests (redis-benchmark.c): an inline PING; GET and SET of a
    # fixed key (no -r), SET with its default 3-byte value "xxx".
    "PING_INLINE": ("ping_inline", "PING\\r\\n", "+PONG\\r\\n"),
    "GET": ("get", "*2\\r\\n$3\\r\\nGET\\r\\n$16\\r\\nkey:__rand_int__\\r\\n", None),
    "SET": ("set", "*3\\r\\n$3\\r\\nSET\\r\\n$16\\r\\nkey:__rand_int__\\r\\n$3\\r\\nxxx\\r\\n", "+OK\\r\\n"),
}

# The same command as the fixed GET, so that redis does the same work for both and only
# the generator's cost differs: two kinds, weighted, of templated Zipf or uniform keys.
GET_SCENARIO = {
    "framing": "resp",
    "requests": [
        {"name": "GET hot", "weight": 90,
         "request": "*2\r\n$3\r\nGET\r\n${len:k+4}\r\nkey:{k=key:1-100000:zipf}\r\n"},
        {"name": "GET any", "weight": 10,
         "request": "*2\r\n$3\r\nGET\r\n${len:k+4}\r\nkey:{k=key:1-100000}\r\n"},
    ],
}

# A realistic mix: redis works harder for it (SETs, 100,000 keys), which changes how
# answers batch and so the generator's CPU per request too.
SCENARIO = {
    "framing": "resp",
    "requests": [
        {"name": "GET", "weight": 90, "request": "*2\r\n$3\r\nGET\r\n${len:k+4}\r\nkey:{k=key:1-100000:zipf}\r\n"},
        {"name": "SET", "weight": 10,
         "request": "*3\r\n$3\r\nSET\r\n${len:k+4}\r\nkey:{k=key:1-100000}\r\n$3\r\nxxx\r\n",
         "expect": {"exact": "+OK\r\n"}},
    ],
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def run_timed(command):
    """Runs command to completion; returns (stdout, CPU seconds it used)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=300)
    # communicate reaped it; the children's rusage holds it now.
    if process.returncode not in (0,):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {err.decode()[-2000:]}")
    return out.decode()


def cpu_of(command):
    before = os.times()
    out = run_timed(command)
    after = os.times()
    return out, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def redis_benchmark(port, test, connections, pipeline, requests):
    out, cpu = cpu_of(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-c", str(connections),
                       "-n", str(requests), "-P", str(pipeline), "-t", test, "--csv", "-q"])
    # --csv: "test","rps",... with a header line first.
    line = [row for row in out.splitlines() if row.startswith('"') and not row.startswith('"test"')][-1]
    rps = float(line.split(",")[1].strip('"'))
    return rps, cpu / requests


def conduit_load(conduit, target_args, connections, pipeline, seconds, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        _, cpu = cpu_of(["taskset", "-c", "1", conduit, "load", *target_args, "--connections", str(connections),
                         "--pipeline", str(pipeline), "--duration", f"{seconds}s", "--drain", "1s", "--quiet",
                         "--json", result.name, *extra])
        summary = json.load(open(result.name))
    if summary["error_count"]:
        raise RuntimeError(f"conduit load had errors: {summary['errors']}")
    return summary["requests_per_second"], cpu / summary["sent"]


def start(command):
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--conduit", default=".build/release/conduit")
    parser.add_argument("--connections", default="100,1000")
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only-costs", action="store_true", help="skip the redis-benchmark table")
    args = parser.parse_args()
    conduit = os.path.abspath(args.conduit)

    port = free_port()
    redis = start(["taskset", "-c", "0", "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--protected-mode", "no"])
    app_port = free_port()
    app = start(["taskset", "-c", "0", conduit, "app-server", "127.0.0.1", str(app_port), "--log-level", "error"])
    scenario = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(SCENARIO, scenario)
    scenario.close()
    get_scenario = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(GET_SCENARIO, get_scenario)
    get_scenario.close()
    try:
        wait_listening(port)
        wait_listening(app_port)
        target = ["--target", f"127.0.0.1:{port}", "--framing", "resp"]
        if not args.only_costs:
            print("| command | connections | pipeline | redis-benchmark req/s | conduit req/s | redis-benchmark CPU/req | "
                  "conduit CPU/req | conduit / redis-benchmark |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
        extra_rows = []
        for connections in map(int, args.connections.split(",")):
            for pipeline in map(int, args.pipelines.split(",")):
                for name, (test, request, expect) in ([] if args.only_costs else COMMANDS.items()):
                    ours, theirs = [], []
                    for _ in range(args.repeats):
                        # As many requests as conduit sends in its run, roughly: both run for seconds.
                        requests = 60_000 * args.seconds * (4 if pipeline > 1 else 1)
                        theirs.append(redis_benchmark(port, test, connections, pipeline, requests))
                        flags = ["--request", request] + (["--expect", expect] if expect else [])
                        ours.append(conduit_load(conduit, target, connections, pipeline, args.seconds, flags))
                    rps_b = statistics.median(r for r, _ in theirs)
                    cpu_b = statistics.median(c for _, c in theirs)
                    rps_c = statistics.median(r for r, _ in ours)
                    cpu_c = statistics.median(c for _, c in ours)
                    print(f"| {name} | {connections:,} | {pipeline} | {rps_b:,.0f} | {rps_c:,.0f} | "
                          f"{cpu_b * 1e6:.2f} µs | {cpu_c * 1e6:.2f} µs | {cpu_c / cpu_b:.2f} |", flush=True)
                # The other two questions, at this setting: the app workload, and the
                # scenarios, each against a fixed GET run next to it (ratios within one
                # repeat, then their median: the machine drifts between repeats).
                fixed_get = ["--request", COMMANDS["GET"][1]]
                runs = []
                for _ in range(args.repeats):
                    get = conduit_load(conduit, target, connections, pipeline, args.seconds, fixed_get)[1]
                    app_cost = conduit_load(conduit, ["--target", f"127.0.0.1:{app_port}"], connections, pipeline,
                                       args.seconds, [])[1]
                    gets = conduit_load(conduit, ["--target", f"127.0.0.1:{port}", "--scenario", get_scenario.name],
                                        connections, pipeline, args.seconds, [])[1]
                    mix = conduit_load(conduit, ["--target", f"127.0.0.1:{port}", "--scenario", scenario.name],
                                       connections, pipeline, args.seconds, [])[1]
                    runs.append((get, app_cost, gets, mix))
                extra_rows.append((connections, pipeline,
                                   statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                                   statistics.median(r[0] / r[1] for r in runs),
                                   statistics.median(r[2] for r in runs), statistics.median(r[2] / r[0] for r in runs),
                                   statistics.median(r[3] for r in runs), statistics.median(r[3] / r[0] for r in runs)))
        print()
        print("| connections | pipeline | conduit CPU/req: fixed RESP GET | app search | RESP / app | "
              "weighted GET scenario | / fixed GET | 90/10 GET/SET scenario | / fixed GET |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for connections, pipeline, get_cpu, app_cpu, per_app, gets_cpu, per_get, mix_cpu, mix_per_get in extra_rows:
            print(f"| {connections:,} | {pipeline} | {get_cpu * 1e6:.2f} µs | {app_cpu * 1e6:.2f} µs | {per_app:.2f} | "
                  f"{gets_cpu * 1e6:.2f} µs | {per_get:.2f} | {mix_cpu * 1e6:.2f} µs | {mix_per_get:.2f} |", flush=True)
    finally:
        stop(redis)
        stop(app)
        os.unlink(scenario.name)
        os.unlink(get_scenario.name)


if __name__ == "__main__":
    sys.exit(main())
