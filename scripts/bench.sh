#!/usr/bin/env bash
# `make bench`: Gatehouse's release build against the reference servers of ../shared/bench (the
# axum + jsonwebtoken "ceiling" and the corrected FastAPI tutorial), side by side on loopback,
# server pinned to CPU 0 and wrk to CPU 1. Runs compare.sh three times (the protected scenarios,
# then the public login page, then the OpenAPI document, each against the ceiling's static page),
# keeps every log in target/bench, and ends with one table: each target of the performance issue,
# the ratio measured, and whether it is met.
#
#   make bench                         # 5 s per run, 2 rounds
#   DURATION=10 ROUNDS=3 make bench    # passed through to compare.sh
#   BENCH_DIR=/path/to/bench make bench
set -euo pipefail

BENCH_DIR="${BENCH_DIR:-../shared/bench}"
OUT=target/bench
[ -x "$BENCH_DIR/compare.sh" ] || {
  echo "bench: no reference servers at $BENCH_DIR (set BENCH_DIR to the folder holding compare.sh)" >&2
  exit 1
}
[ -x target/release/gatehouse ] || { echo "bench: build first (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing; install it with: apt-get install -y wrk" >&2; exit 1; }
mkdir -p "$OUT"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"

# compare.sh NAME VAR=VALUE...: one comparison, its output shown and kept in target/bench/NAME.log.
compare() {
  local name="$1"; shift
  echo
  echo "==> bench: $name"
  env "$@" APP_START="$BENCH_DIR/product/start.sh" APP_NAME=gatehouse BENCH_WORK_DIR="$OUT" \
    PROJECT_DIR="$PWD" "$BENCH_DIR/compare.sh" 2>&1 | tee "$OUT/$name.log"
}

# The page before the logins: a thousand password grants for johndoe end his oldest sessions
# (--max-sessions-per-user), the page's browser session among them.
compare protected SCENARIOS="api page login" APP_PAGE_PATH=/dashboard APP_FORM_LOGIN_PATH=/api/login
# Public resources need no session; the contract was checked by the run above.
compare login-page SCENARIOS=page APP_PAGE_PATH=/login APP_COOKIE_HEADER="Cookie: visitor=1" SMOKE=0
compare openapi SCENARIOS=page APP_PAGE_PATH=/openapi.json APP_COOKIE_HEADER="Cookie: visitor=1" SMOKE=0

# A login flood: 64 clients hammer POST /token for johndoe (most answered 503 when the argon2
# queue is full) while /healthz and the API (as another user, whose sessions the flood leaves
# alone) are measured beside it; the server's peak memory after.
flood() {
  local seconds=${FLOOD_SECONDS:-10} port pid base token data
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  data=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-flood.XXXXXX")
  echo
  echo "==> bench: login flood (64 clients on /token for ${seconds}s; /healthz and the API measured meanwhile)"
  echo 'the reader of the api' | ./target/release/gatehouse user add reader --data-dir "$data" >/dev/null
  RUST_LOG=warn taskset -c 0 ./target/release/gatehouse serve --demo --addr "127.0.0.1:$port" \
    --data-dir "$data" >"$OUT/flood-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.1; done
  token=$(curl -s --data-urlencode grant_type=password --data-urlencode username=reader \
    --data-urlencode 'password=the reader of the api' "$base/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  "$BENCH_DIR/load.sh" login "$base/token" johndoe password1 "$seconds" 64 >"$OUT/flood-logins.txt" 2>/dev/null &
  local logins=$!
  sleep 1
  "$BENCH_DIR/load.sh" get "$base/healthz" - $((seconds / 2 - 1)) 8 >"$OUT/flood-healthz.txt" 2>/dev/null || true
  "$BENCH_DIR/load.sh" get "$base/api/users/me" "$token" $((seconds / 2 - 1)) 8 >"$OUT/flood-api.txt" 2>/dev/null || true
  wait "$logins" || true
  peak_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  cat "$OUT"/flood-{logins,healthz,api}.txt
  echo "server peak RSS: $((peak_kb / 1024)) MB"
}
flood

# field FILE NAME: one value of load.sh's LOAD line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | head -n 1; }

# ratio LOG SCENARIO: Gatehouse's requests per second over the ceiling's, from compare.sh's RATIO line.
ratio() {
  sed -n "s/^RATIO scenario=$2 num=gatehouse den=ceiling rps=\([^ ]*\) .*/\1/p" "$OUT/$1.log" | head -n 1
}
# signed_in_ratio: password logins answered 200 per second, Gatehouse's over the ceiling's, from
# compare.sh's RUN lines. Its own ratio counts every answer, and the throttle answers some of
# eight simultaneous sign-ins to one account 429 at once (attempts in flight count as failures
# until checked), which is not a login.
signed_in_ratio() {
  awk '$1 == "RUN" && $2 == "scenario=login" {
      for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      ok[v["target"]] += v["requests"] - v["non2xx"]; seconds[v["target"]] += v["duration_s"]
    }
    END {
      if (seconds["gatehouse"] > 0 && seconds["ceiling"] > 0 && ok["ceiling"] > 0)
        printf "%.4f", (ok["gatehouse"] / seconds["gatehouse"]) / (ok["ceiling"] / seconds["ceiling"])
    }' "$OUT/protected.log"
}
# size FILE: bytes, or 0 when the build made no such file.
size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }

pkg=target/site/pkg
echo
echo "==> bench: targets (ratios of requests per second, Gatehouse over the ceiling; one run)"
{
  printf 'what\tmeasured\ttarget\tmet\n'
  row() {  # what measured target(min ratio)
    local met=no
    if [ -n "$2" ] && awk -v m="$2" -v t="$3" 'BEGIN { exit !(m >= t) }'; then met=yes; fi
    printf '%s\tx%s\t>= x%s\t%s\n' "$1" "${2:-NA}" "$3" "$met"
  }
  row "protected API, GET /api/users/me (Bearer)" "$(ratio protected api)" 0.7
  row "protected page, GET /dashboard (cookie)" "$(ratio protected page)" 0.3
  row "public page, GET /login" "$(ratio login-page page)" 0.4
  row "GET /openapi.json" "$(ratio openapi page)" 0.8
  row "password logins answered 200, POST /token" "$(signed_in_ratio)" 0.9
  below() {  # what measured limit unit
    local met=no
    if [ -n "$2" ] && awk -v m="$2" -v t="$3" 'BEGIN { exit !(m <= t) }'; then met=yes; fi
    printf '%s\t%s %s\t<= %s %s\t%s\n' "$1" "${2:-NA}" "$4" "$3" "$4" "$met"
  }
  below "login flood: /healthz p99" "$(field "$OUT/flood-healthz.txt" p99_ms)" 50 ms
  below "login flood: GET /api/users/me p99" "$(field "$OUT/flood-api.txt" p99_ms)" 50 ms
  below "login flood: POST /token p50 (503 when full)" "$(field "$OUT/flood-logins.txt" p50_ms)" 1000 ms
  below "login flood: server peak RSS" "$((peak_kb / 1024))" 128 MB
  # What the sign-in page makes a browser download: the shared wasm, its JavaScript and the loader
  # of the islands split out of it (`#[island(lazy)]`); another page adds its islands' chunks.
  # In kB of 1,000 bytes, the stricter reading of the target.
  kilobytes() { awk -v bytes="$1" 'BEGIN { printf "%.1f", bytes / 1000 }'; }
  for encoding in br gz; do
    bytes=$(( $(size "$pkg/gatehouse.wasm.$encoding") + $(size "$pkg/gatehouse.js.$encoding") \
      + $(size "$pkg/__wasm_split.______________________.js.$encoding") ))
    met=no; [ "$bytes" -gt 0 ] && [ "$bytes" -le 200000 ] && met=yes
    printf 'browser bundle, sign-in page: wasm + js (%s)\t%s kB\t<= 200 kB\t%s\n' "$encoding" "$(kilobytes "$bytes")" "$met"
  done
  largest=$(ls -S "$pkg"/split_*.wasm.br 2>/dev/null | head -n 1)
  if [ -n "$largest" ]; then
    printf 'largest island loaded on demand (br): %s\t%s kB\t\t\n' \
      "$(basename "$largest" .wasm.br | sed -E 's/^split_(.*)_loader_[0-9]+$/\1/')" "$(kilobytes "$(size "$largest")")"
  fi
} | column -t -s $'\t'
