#!/usr/bin/env python3
"""Sign-ins through graphtoken's login page for DURATION seconds, from THREADS threads at once:
each one opens the sign-in page (its cookie and CSRF token), then posts the right password.

Usage: signins.py BASE_URL DURATION THREADS EMAIL PASSWORD
Prints: sign-ins completed, failures. Standard library only.
"""
import http.client
import re
import sys
import threading
import time
from urllib.parse import urlencode, urlparse


def worker(base, deadline, email, password, counts, lock):
    u = urlparse(base)
    ok = bad = 0
    while time.time() < deadline:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("GET", "/device")
            r = conn.getresponse()
            page = r.read().decode("utf-8", "replace")
            cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
            m = re.search(r'name="csrf" value="([^"]+)"', page)
            if not m or not cookie:
                bad += 1
                continue
            body = urlencode({"email": email, "pass": password, "csrf": m.group(1), "next": "/device"})
            conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            r = conn.getresponse()
            r.read()
            if r.status == 303:
                ok += 1
            else:
                bad += 1
        except OSError:
            bad += 1
        finally:
            conn.close()
    with lock:
        counts[0] += ok
        counts[1] += bad


def main():
    base, duration, threads, email, password = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    deadline = time.time() + duration
    counts, lock = [0, 0], threading.Lock()
    ts = [threading.Thread(target=worker, args=(base, deadline, email, password, counts, lock)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"{counts[0]}\t{counts[1]}")


if __name__ == "__main__":
    main()
