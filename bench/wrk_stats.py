"""Reads one wrk --latency output and prints its figures, tab-separated:
requests/s (rounded), total requests, non-2xx/3xx responses, p50, p99."""
import re
import sys

txt = open(sys.argv[1]).read()


def g(pattern):
    m = re.search(pattern, txt, re.M)
    return m[1] if m else None


rps = float(g(r"^Requests/sec:\s+([\d.]+)") or 0)
total = int(g(r"^\s+(\d+) requests in") or 0)
non2xx = int(g(r"Non-2xx or 3xx responses:\s+(\d+)") or 0)
print("\t".join([f"{rps:.0f}", str(total), str(non2xx), str(g(r"^\s+50%\s+(\S+)")), str(g(r"^\s+99%\s+(\S+)"))]))
