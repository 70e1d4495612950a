#!/usr/bin/env bash
# Fuzzes the API for programs from its own OpenAPI document with schemathesis (PyPI, pinned in
# scripts/api-fuzz-requirements.txt, installed into target/api-fuzz-venv on first use): starts the
# release server with the demo users and an administrator on a free port, signs the administrator
# in through POST /token (so the admin operations are exercised too, not only refused), and sends
# every operation generated, valid and invalid, with and without the Bearer token. The gate
# is the check `not_a_server_error`: no input may earn a 5xx.
# Usage: scripts/api-fuzz.sh [examples per operation]   (after `make build`; `make test` runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-40}
venv=target/api-fuzz-venv
if ! cmp -s scripts/api-fuzz-requirements.txt "$venv/requirements.txt" 2>/dev/null; then
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/api-fuzz-requirements.txt
	cp scripts/api-fuzz-requirements.txt "$venv/requirements.txt"
fi
data_dir=$(mktemp -d)
log=$(mktemp)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' 'fuzzing administrator passphrase' \
	| ./target/release/gatehouse user add fuzz-admin --admin --data-dir "$data_dir" >/dev/null
./target/release/gatehouse serve --demo --addr "127.0.0.1:$port" --data-dir "$data_dir" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data_dir" "$log"' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
token=$(curl -sf "http://127.0.0.1:$port/token" -d grant_type=password -d username=fuzz-admin --data-urlencode 'password=fuzzing administrator passphrase' \
	| python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
	--checks not_a_server_error --max-examples "$examples" --seed 12 --no-color \
	--header "Authorization: Bearer $token" --suppress-health-check all
if grep -qw ERROR "$log"; then
	echo "The server logged errors while fuzzed:" >&2
	grep -w ERROR "$log" >&2
	exit 1
fi
