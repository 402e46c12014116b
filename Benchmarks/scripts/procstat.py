"""What the comparison scripts read about the processes they start, and how they stop
them: CPU time and memory from /proc, and a stop by PID (SIGTERM, then SIGKILL)."""

import os
import signal
import subprocess

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
