#!/usr/bin/env python3
"""Reads HdrHistogram interval logs with the `hdrhistogram` package (an implementation
independent of Conduit's), adds all their intervals together, and compares the sum bucket
by bucket with a histogram `conduit load merge` wrote (its `latency_histogram`, base64).
Prints, as JSON, the total count, how many buckets differ, and the p50/p99/max as this
package computes them (it rounds a percentile's rank to the nearest count, where
Conduit's library rounds up, so those may differ by a bucket on equal histograms).

usage: hlog_merge.py MERGED_HISTOGRAM_BASE64 FILE.hlog…
exit 3 when the hdrhistogram package is missing.
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
for path in sys.argv[2:]:
    reader = HistogramLogReader(path, HdrHistogram(LOWEST, HIGHEST, DIGITS))
    while True:
        histogram = reader.get_next_interval_histogram()
        if histogram is None:
            break
        total.add(histogram)
        intervals += 1
merged = HdrHistogram.decode(sys.argv[1])
differing = sum(1 for index in range(max(total.counts_len, merged.counts_len))
                if (total.get_count_at_index(index) if index < total.counts_len else 0)
                != (merged.get_count_at_index(index) if index < merged.counts_len else 0))
print(json.dumps({
    "intervals": intervals,
    "count": total.get_total_count(),
    "merged_count": merged.get_total_count(),
    "differing_buckets": differing,
    "p50": total.get_value_at_percentile(50),
    "p99": total.get_value_at_percentile(99),
    "p99_9": total.get_value_at_percentile(99.9),
    "max": total.get_max_value(),
}))
