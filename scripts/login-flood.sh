#!/usr/bin/env bash
# Memory under a flood of sign-ins: starts the release server with the demo users on a free
# port, fires many concurrent failing logins at it, and prints its resident memory before and
# after (VmRSS) and at its peak (VmHWM). Each login names another unknown user and comes from
# another address (the server trusts this script as a proxy and reads X-Forwarded-For), so
# throttling never answers for the hashing: every attempt costs one argon2 verification, or a
# 503 when the argon2 queue is full.
# Usage: scripts/login-flood.sh [total requests] [concurrent]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-400}
concurrent=${2:-200}
data_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./target/release/gatehouse serve --demo --addr "127.0.0.1:$port" --data-dir "$data_dir" \
	--trusted-proxy 127.0.0.1 2>/dev/null &
server=$!
trap 'kill $server; rm -rf "$data_dir"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
memory() { awk -v what="$1" '$1 == what":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$server/status"; }
echo "idle:  VmRSS $(memory VmRSS)"
python3 - "$port" "$total" "$concurrent" <<'PY'
import concurrent.futures, sys, time, urllib.error, urllib.parse, urllib.request
port, total, parallel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def attempt(i):
    body = urllib.parse.urlencode({"username": f"flood{i}", "password": f"wrong {i}"}).encode()
    headers = {
        "Accept": "application/json",
        "Origin": f"http://127.0.0.1:{port}",
        "X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
    }
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/login", data=body, headers=headers)
    try:
        return urllib.request.urlopen(request).status
    except urllib.error.HTTPError as error:
        return error.code
start = time.time()
with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
    statuses = list(pool.map(attempt, range(total)))
elapsed = time.time() - start
counts = {status: statuses.count(status) for status in sorted(set(statuses))}
print(f"flood: {total} logins, {parallel} at once, {elapsed:.1f} s ({total / elapsed:.1f}/s), statuses {counts}")
PY
echo "after: VmRSS $(memory VmRSS), peak VmHWM $(memory VmHWM)"
