#!/usr/bin/env python3
"""Mint N real user tokens through graphtoken's admin API and write them one per line.

Usage: mint.py BASE_URL ADMIN_KEY COUNT OUT_FILE [USERS]
Tokens are spread over USERS people (keys user0 … user{USERS-1} from bench/world.toml), with the
permissions in MINT_SCOPES (comma separated; default email).
Standard library only; a few keep-alive connections in parallel threads.
"""
import http.client
import json
import os
import sys
import threading
from urllib.parse import urlparse


SCOPES = [s for s in os.environ.get("MINT_SCOPES", "email").split(",") if s]


def worker(base, key, users, indices, out, errors):
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for i in indices:
        body = json.dumps({"user": f"user{i % users}", "app": "bench", "scopes": SCOPES})
        conn.request("POST", "/_admin/tokens", body, headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            errors.append(f"{r.status} {data[:200]!r}")
            return
        out[i] = json.loads(data)["access_token"]


def main():
    base, key, count, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    users = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    out, errors, threads = [None] * count, [], []
    for t in range(4):
        th = threading.Thread(target=worker, args=(base, key, users, range(t, count, 4), out, errors))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    if errors or any(t is None for t in out):
        sys.exit(f"minting failed: {errors[:3]}")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
