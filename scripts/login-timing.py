#!/usr/bin/env python3
"""Measures how long the login server function takes for an unknown user, a wrong password,
a disabled account and a success, interleaved, and prints the median and spread of each.

The first three must be indistinguishable (same work: one argon2id verification).
Usage: start a server with the demo users, e.g.
    ./target/release/gatehouse serve --demo --addr 127.0.0.1:3100 --data-dir "$(mktemp -d)"
then: scripts/login-timing.py [http://127.0.0.1:3100] [rounds]
"""
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3100"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
cases = {
    "unknown user": ("nobody-at-all", "password1"),
    "wrong password": ("johndoe", "not-the-password"),
    "disabled account": ("alice", "password1"),
    "success": ("johndoe", "password1"),
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def attempt(username, password):
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    request = urllib.request.Request(f"{base}/api/login", data=body, headers={"Accept": "application/json"})
    start = time.perf_counter()
    try:
        status = opener.open(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - start, status


samples = {name: [] for name in cases}
statuses = {name: set() for name in cases}
for name, credentials in cases.items():
    attempt(*credentials)  # warm-up (the dummy hash is computed on first use)
for _ in range(rounds):
    for name, credentials in cases.items():
        elapsed, status = attempt(*credentials)
        samples[name].append(elapsed * 1000)
        statuses[name].add(status)

print(f"{rounds} rounds against {base}/api/login (milliseconds)")
print(f"{'case':<18}{'status':>8}{'median':>9}{'p10':>9}{'p90':>9}")
for name, values in samples.items():
    values.sort()
    p10, p90 = values[len(values) // 10], values[(len(values) * 9) // 10]
    status = ",".join(str(s) for s in sorted(statuses[name]))
    print(f"{name:<18}{status:>8}{statistics.median(values):>9.1f}{p10:>9.1f}{p90:>9.1f}")
