#!/usr/bin/env bash
# The Rust tests (unit and integration) with cargo-nextest, each test in a process of its own,
# then the ten slowest. Run by `make cargo-test` with the release build's environment; the
# database is chosen by GATEHOUSE_TEST_POSTGRES (unset: SQLite). Extra arguments go to nextest
# (e.g. a test name filter).
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo nextest run --release --no-default-features --features ssr --color never --no-fail-fast "$@" \
  2>&1 | tee "$log" || status=$?
echo "The ten slowest tests:"
# awk keeps the ten slowest itself: no `head` to close the pipe early (SIGPIPE under pipefail).
grep -E '^ +(PASS|FAIL|SLOW|LEAK)' "$log" | sed -E 's/^ +[A-Z]+ +\[ *([0-9.]+)s\] +\([0-9/ ]+\) +/\1s  /' |
  sort -rn | awk 'NR <= 10 { print "  " $0 }'
exit "$status"
