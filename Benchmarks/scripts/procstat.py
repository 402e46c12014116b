"""What the comparison scripts read about the processes they start, and how they stop
them: CPU time and memory from /proc, and a stop by PID (SIGTERM, then SIGKILL)."""

import json
import os
import resource
import signal
import subprocess
import tempfile
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User+system CPU seconds used so far by `pids` (a PID or a list)."""
    total = 0
    for pid in [pids] if isinstance(pids, int) else pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_bytes(pids):
    """Resident memory of `pids` in bytes."""
    total = 0
    for pid in [pids] if isinstance(pids, int) else pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def stop(process, timeout=30):
    """Asks a process we started to stop (SIGTERM), and kills it if it does not."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def conduit_load_report(command, timeout):
    """Runs a `conduit load` command (its `--json` path is added here) to the end, or kills
    it after `timeout` s. Returns its JSON report and how busy its core was: its own CPU
    time (from its rusage: RUSAGE_CHILDREN grows by each reaped child) over the wall
    time. Above 0.9 a comparison measures the generator, not the server."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        load = subprocess.Popen(command + ["--json", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        try:
            _, stderr = load.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            load.kill()
            _, stderr = load.communicate()
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if os.path.getsize(path) == 0:
            raise RuntimeError(f"conduit load exited {load.returncode}: {stderr.strip()[-400:]}")
        with open(path) as f:
            report = json.load(f)
    finally:
        os.unlink(path)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return report, cpu / wall
