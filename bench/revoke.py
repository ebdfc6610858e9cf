#!/usr/bin/env python3
"""Revoke about RATE sessions a second for SECONDS seconds through graphtoken's admin API.

Usage: revoke.py BASE_URL ADMIN_KEY RATE SECONDS FIRST_USER LAST_USER
Each revocation logs a person of the pool (user<FIRST_USER> … user<LAST_USER> of
bench/world.toml) in (a new session, POST /_admin/tokens) and then resets their sessions
(POST /_admin/users/{user}/invalidate, 190/460), so every revocation really ends a session.
The people measured by wrk are outside the pool: their tokens stay valid, and what the
revocations cost them is only what they do to the server's caches.
Prints how many sessions were ended. Standard library only; bounded in time.
"""
import http.client
import json
import sys
import time
from urllib.parse import urlparse


def main():
    base, key = sys.argv[1], sys.argv[2]
    rate, seconds = float(sys.argv[3]), float(sys.argv[4])
    first, last = int(sys.argv[5]), int(sys.argv[6])
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(path, body):
        nonlocal conn
        for attempt in range(2):
            try:
                conn.request("POST", path, json.dumps(body), headers)
                r = conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # The server may close a keep-alive connection between calls: open a new one.
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                if attempt:
                    raise
        if r.status != 200:
            sys.exit(f"{path}: HTTP {r.status} {data[:200]!r}")
        return json.loads(data)

    start = time.monotonic()
    ended, i = 0, 0
    while True:
        due = start + i / rate
        now = time.monotonic()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        user = f"user{first + i % (last - first + 1)}"
        call("/_admin/tokens", {"user": user, "app": "bench"})
        ended += call(f"/_admin/users/{user}/invalidate", {})["sessions_ended"]
        i += 1
    print(f"{ended} sessions ended in {i} revocations over {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
