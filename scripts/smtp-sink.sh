#!/usr/bin/env bash
# Starts the SMTP sink the tests send mail to, unless it is already running: maildev (npm,
# pinned in end2end/package.json) catching SMTP on 127.0.0.1:1025 and showing what arrived at
# http://127.0.0.1:1080 (its REST API, GET /email, is how the tests read their mail).
# Usage: scripts/smtp-sink.sh   (`make test` runs it; the sink keeps running afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
smtp_port=${SMTP_SINK_PORT:-1025}
web_port=${SMTP_SINK_WEB_PORT:-1080}
ready() { curl -sf "http://127.0.0.1:$web_port/email" >/dev/null; }
if ready; then
	echo "SMTP sink already running: smtp://127.0.0.1:$smtp_port, http://127.0.0.1:$web_port"
	exit 0
fi
mkdir -p target
log=target/smtp-sink.log
nohup end2end/node_modules/.bin/maildev --ip 127.0.0.1 --smtp "$smtp_port" --web "$web_port" \
	>"$log" 2>&1 </dev/null &
sink=$!
# Node starts in well under a second; a busy machine gets a minute before this gives up.
for _ in $(seq 300); do
	if ready; then
		echo "SMTP sink started: smtp://127.0.0.1:$smtp_port, http://127.0.0.1:$web_port (log: $log)"
		exit 0
	fi
	if ! kill -0 "$sink" 2>/dev/null; then
		echo "The SMTP sink (maildev) stopped at start:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.2
done
echo "The SMTP sink (maildev) did not answer within a minute; its log:" >&2
cat "$log" >&2
exit 1
