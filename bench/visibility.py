#!/usr/bin/env python3
"""How long a revocation on one instance takes to be refused by another.

    visibility.py A_URL B_URL ADMIN_KEY [ROUNDS]

Each round: a new user token for user0 on the bench app (on A), read twice through B (so B caches it),
a security reset of user0 on A, then B is asked for /me every 2 ms until it refuses the token.
The time is from the moment A answered the reset (it had committed) to B's first refusal.
Prints one JSON object: rounds, p50/p90/p99/max in milliseconds, and timeouts (rounds where B
still accepted the token after 5 s).
"""
import http.client
import json
import sys
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def call(c, method, path, key=None, body=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse()
    data = r.read()
    return r.status, data


def main():
    a_url, b_url, key = sys.argv[1], sys.argv[2], sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    a, b = conn(a_url), conn(b_url)
    times, timeouts = [], 0
    for _ in range(rounds):
        status, data = call(a, "POST", "/_admin/tokens", key,
                            {"user": "user0", "app": "bench", "scopes": [], "lifetime": "short"})
        assert status == 200, data
        token = json.loads(data)["access_token"]
        me = "/v24.0/me?access_token=" + urllib.parse.quote(token)
        for _ in range(2):
            status, data = call(b, "GET", me)
            assert status == 200, data
        status, data = call(a, "POST", "/_admin/users/user0/invalidate", key, {})
        assert status < 300, data
        t0 = time.perf_counter()
        while True:
            status, _ = call(b, "GET", me)
            took = time.perf_counter() - t0
            if status != 200:
                times.append(took * 1000)
                break
            if took > 5:
                timeouts += 1
                break
            time.sleep(0.002)
    times.sort()

    def pct(p):
        return round(times[min(len(times) - 1, int(len(times) * p))], 1) if times else None

    print(json.dumps({"rounds": rounds, "p50_ms": pct(0.5), "p90_ms": pct(0.9),
                      "p99_ms": pct(0.99), "max_ms": round(times[-1], 1) if times else None,
                      "timeouts": timeouts}))


if __name__ == "__main__":
    main()
