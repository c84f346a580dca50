"""`make bench`: throughput and latency of the execution path, with figures and ratios."""
