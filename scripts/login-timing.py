#!/usr/bin/env python3
"""Measures how long the login server function takes for an unknown user, a wrong password,
a disabled account and a success, interleaved, and prints the median and spread of each.

The first three must be indistinguishable (same work: one argon2id verification).

It starts its own release server (`make build` first) on a free port with a throw-away data
directory. Brute-force throttling would answer most attempts with a cheap 429, so every attempt
comes from an address of its own (the server trusts this script as a proxy, --trusted-proxy,
and reads X-Forwarded-For), unknown and disabled names are used once each, and the success
after each wrong password clears johndoe's count.

Usage: scripts/login-timing.py [rounds]
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
PASSWORD = "correct horse battery staple"
BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "gatehouse")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gatehouse(data_dir, *args, password=None):
    subprocess.run([BINARY, *args, "--data-dir", data_dir], input=f"{password}\n" if password else "",
                   text=True, check=True, stdout=subprocess.DEVNULL)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(1, 1 << 24))


def attempt(base, username, password):
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    headers = {"Accept": "application/json", "Origin": base, "X-Forwarded-For": next(addresses)}
    request = urllib.request.Request(f"{base}/api/login", data=body, headers=headers)
    start = time.perf_counter()
    try:
        status = opener.open(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - start, status


def main():
    data_dir = tempfile.mkdtemp()
    gatehouse(data_dir, "user", "add", "johndoe", password=PASSWORD)
    for i in range(ROUNDS + 1):
        gatehouse(data_dir, "user", "add", f"alice{i}", "--disabled", password=PASSWORD)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([BINARY, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir,
                               "--trusted-proxy", "127.0.0.1"], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        cases = {
            "unknown user": lambda i: (f"nobody{i}", PASSWORD),
            "wrong password": lambda i: ("johndoe", "not the password at all"),
            "disabled account": lambda i: (f"alice{i}", PASSWORD),
            "success": lambda i: ("johndoe", PASSWORD),
        }
        for credentials in cases.values():
            attempt(base, *credentials(ROUNDS))  # warm-up (the dummy hash is made on first use)
        samples = {name: [] for name in cases}
        statuses = {name: set() for name in cases}
        for i in range(ROUNDS):
            for name, credentials in cases.items():
                elapsed, status = attempt(base, *credentials(i))
                samples[name].append(elapsed * 1000)
                statuses[name].add(status)
    finally:
        server.terminate()
        server.wait()

    print(f"{ROUNDS} interleaved rounds against {base}/api/login (milliseconds)")
    print(f"{'case':<18}{'status':>8}{'median':>9}{'p10':>9}{'p90':>9}")
    for name, values in samples.items():
        values.sort()
        p10, p90 = values[len(values) // 10], values[(len(values) * 9) // 10]
        status = ",".join(str(s) for s in sorted(statuses[name]))
        print(f"{name:<18}{status:>8}{statistics.median(values):>9.1f}{p10:>9.1f}{p90:>9.1f}")
    medians = [statistics.median(samples[name]) for name in ("unknown user", "wrong password", "disabled account")]
    print(f"spread of the three refusals' medians: {100 * (max(medians) - min(medians)) / min(medians):.1f} %")


main()
