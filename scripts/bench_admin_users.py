#!/usr/bin/env python3
"""The administrators' user table at 100,000 users, on SQLite and on PostgreSQL.

`make bench-admin` (after `make build`). For each backend: starts the release server on a free
port with fresh data, creates an administrator with the CLI, seeds 100,000 users straight into
the database (one in ten disabled), signs the administrator in through the login form, then
times the table's server function (the JSON the hydrated page fetches) and the server-rendered
page for each kind of view: first page, a page deep in the table (keyset `after`), newest
first deep down, a search, a filter. Prints one table of medians and 95th percentiles.

Usage: scripts/bench_admin_users.py [--users N] [--repeat N] [--backends sqlite,postgres]
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GATEHOUSE = os.path.join(ROOT, "target", "release", "gatehouse")
POSTGRES = os.environ.get("GATEHOUSE_TEST_POSTGRES", "postgres://root@127.0.0.1:5432")
ADMIN_PASSWORD = "benchmark administrator passphrase"
# A well-formed argon2id string nobody can sign in with: the seeded users only fill the table.
PLACEHOLDER_HASH = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2htYXJr$YmVuY2htYXJrYmVuY2htYXJr"

VIEWS = [
    ("first page, by name", {}),
    ("page after user-050000", {"after": "user-050000"}),
    ("newest first, after id 50000", {"sort": "newest", "after": "50000"}),
    ("search 'user-0999' (name, email)", {"search": "user-0999"}),
    ("search a full name 'Person 77777'", {"search": "Person 77777"}),
    ("disabled only", {"status": "disabled"}),
    ("administrators only", {"status": "admins"}),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gatehouse(args, data_dir, database_url, stdin=""):
    env = dict(os.environ)
    if database_url:
        env["GATEHOUSE_DATABASE_URL"] = database_url
    else:
        env.pop("GATEHOUSE_DATABASE_URL", None)
    subprocess.run([GATEHOUSE, *args, "--data-dir", data_dir], input=stdin, text=True, env=env,
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def seed_sqlite(data_dir, users):
    db = sqlite3.connect(os.path.join(data_dir, "gatehouse.db"))
    (stamp,) = db.execute("SELECT created_at FROM users LIMIT 1").fetchone()
    db.execute(
        """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           INSERT INTO users (username, full_name, email, password_hash, disabled, admin,
                              token_version, created_at, updated_at, must_change_password)
           SELECT printf('user-%06d', i), printf('Person %d', i), printf('user%d@example.com', i),
                  ?, i % 10 = 0, 0, 0, ?, ?, 0 FROM n""",
        (users, PLACEHOLDER_HASH, stamp, stamp),
    )
    db.commit()
    db.close()


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def seed_postgres(url, users):
    psql(url, f"""INSERT INTO users (username, full_name, email, password_hash, disabled, admin,
                                     token_version, created_at, updated_at, must_change_password)
                  SELECT 'user-' || lpad(i::text, 6, '0'), 'Person ' || i, 'user' || i || '@example.com',
                         '{PLACEHOLDER_HASH}', i % 10 = 0, false, 0, now(), now(), false
                  FROM generate_series(1, {users}) AS i;
                  ANALYZE users;""")


class Browser:
    """An administrator's browser: the login form's cookies, then requests as the app makes them."""

    def __init__(self, port):
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.cookies = {}

    def request(self, method, path, body=None, accept="application/json"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Origin": self.origin, "Accept": accept}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, data

    def sign_in(self, username, password):
        form = urllib.parse.urlencode({"username": username, "password": password})
        status, _ = self.request("POST", "/api/login", form, accept="text/html")
        if status != 303:
            raise SystemExit(f"bench: the administrator could not sign in (status {status})")


def timed(call, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, _ = call()
        samples.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise SystemExit(f"bench: a request was answered {status}")
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95


def run_backend(backend, users, repeat):
    data_dir = tempfile.mkdtemp(prefix="gatehouse-bench-admin-")
    database_url = None
    scratch = None
    if backend == "postgres":
        scratch = f"gatehouse_bench_admin_{os.getpid()}"
        psql(POSTGRES + "/postgres", f"CREATE DATABASE {scratch}")
        database_url = f"{POSTGRES}/{scratch}"
    server = None
    try:
        gatehouse(["migrate"], data_dir, database_url)
        gatehouse(["user", "add", "bench-admin", "--admin"], data_dir, database_url, ADMIN_PASSWORD + "\n")
        print(f"  seeding {users:,} users into {backend} ...", flush=True)
        if backend == "sqlite":
            seed_sqlite(data_dir, users)
        else:
            seed_postgres(database_url, users)
        port = free_port()
        env = dict(os.environ, RUST_LOG="warn")
        if database_url:
            env["GATEHOUSE_DATABASE_URL"] = database_url
        server = subprocess.Popen([GATEHOUSE, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        browser = Browser(port)
        browser.sign_in("bench-admin", ADMIN_PASSWORD)
        rows = []
        for name, query in VIEWS:
            form = urllib.parse.urlencode(query)
            function = timed(lambda: browser.request("POST", "/api/admin/list_users", form), repeat)
            page_path = "/admin/users" + (f"?{form}" if form else "")
            page = timed(lambda: browser.request("GET", page_path, accept="text/html"), repeat)
            rows.append((backend, name, function, page))
        return rows
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch:
            psql(POSTGRES + "/postgres", f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    if not os.access(GATEHOUSE, os.X_OK):
        sys.exit("bench: build first (make build)")
    rows = []
    for backend in args.backends.split(","):
        print(f"==> {backend}", flush=True)
        rows.extend(run_backend(backend, args.users, args.repeat))
    print()
    print(f"The user table at {args.users:,} users ({args.repeat} requests each, one at a time; ms):")
    print(f"{'backend':<9} {'view':<36} {'list_users p50':>14} {'p95':>7} {'page p50':>9} {'p95':>7}")
    for backend, name, (f50, f95), (p50, p95) in rows:
        print(f"{backend:<9} {name:<36} {f50:>14.1f} {f95:>7.1f} {p50:>9.1f} {p95:>7.1f}")


if __name__ == "__main__":
    main()
