#!/usr/bin/env python3
"""Reads HdrHistogram interval logs with the `hdrhistogram` package (an implementation
independent of Conduit's) and prints, as JSON, the total count and the p50/p99/p99.9/max
of all their intervals added together: what `conduit load merge` must agree with.

usage: hlog_merge.py FILE.hlog…   (exit 3 when the hdrhistogram package is missing)
"""

import json
import sys

try:
    from hdrh.histogram import HdrHistogram
    from hdrh.log import HistogramLogReader
except ImportError:
    print("the hdrhistogram package is missing: pip install hdrhistogram", file=sys.stderr)
    sys.exit(3)

# The range Conduit records latencies in: 1 ns to 100 s, 3 significant digits.
LOWEST, HIGHEST, DIGITS = 1, 100_000_000_000, 3

total = HdrHistogram(LOWEST, HIGHEST, DIGITS)
intervals = 0
for path in sys.argv[1:]:
    reader = HistogramLogReader(path, HdrHistogram(LOWEST, HIGHEST, DIGITS))
    while True:
        histogram = reader.get_next_interval_histogram()
        if histogram is None:
            break
        total.add(histogram)
        intervals += 1
print(json.dumps({
    "intervals": intervals,
    "count": total.get_total_count(),
    "p50": total.get_value_at_percentile(50),
    "p99": total.get_value_at_percentile(99),
    "p99_9": total.get_value_at_percentile(99.9),
    "max": total.get_max_value(),
}))
