# Gatehouse: `make run` serves the site, `make test` runs every test. Both install what is missing
# first and skip what is already there, so a second run starts straight away.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(PATH)

# ---- Pinned tools, and why ---------------------------------------------------------------------
# cargo-leptos 0.3.10: 0.3.11 with --locked needs rustc 1.96, newer than the stable toolchain here;
# 0.3.10 --locked builds on stable. Installing takes about 20 minutes on 2 cores, so it is done once.
CARGO_LEPTOS_VERSION := 0.3.10
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock (pinned with `=` in Cargo.toml):
# cargo-leptos would otherwise download it from GitHub, and it does not check the version it finds.
# Installed without --locked: its own lock file names a crate version the registry no longer has.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
# wasm-opt comes from the npm package binaryen@123 (package.json), which cargo-leptos finds in
# ./node_modules/.bin. Never Debian's binaryen 108: its output never hydrates.
# Playwright is pinned in end2end/package.json and drives Debian's chromium: no browser download.

# Compile-time environment cargo-leptos gives the release server build. `cargo test` gets the
# same, so it reuses that build instead of compiling every crate again.
LEPTOS_BUILD_ENV := LEPTOS_OUTPUT_NAME=gatehouse LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
	LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
	LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The Rust tests run twice: on SQLite, then on this PostgreSQL server (trust authentication on
# loopback, as on this kind of machine), each test in a scratch database of its own.
GATEHOUSE_TEST_POSTGRES ?= postgres://root@127.0.0.1:5432
# Mail goes through real SMTP to maildev (scripts/smtp-sink.sh starts it), which the tests read
# back over its HTTP API.
SMTP_SINK := smtp://127.0.0.1:1025?tls=none
SMTP_SINK_API := http://127.0.0.1:1080
TEST_MAIL_ENV := GATEHOUSE_TEST_SMTP='$(SMTP_SINK)' GATEHOUSE_TEST_MAILBOX=$(SMTP_SINK_API)

# $(call timed,what,command): runs the command between a start line and a line with its duration.
timed = printf '\n\033[1m==> %s\033[0m\n' '$(1)'; start=$$(date +%s); $(2); status=$$?; \
	printf '\033[1m<== %s: %ss%s\033[0m\n' '$(1)' "$$(( $$(date +%s) - start ))" "$$( [ $$status = 0 ] || echo ", FAILED ($$status)")"; \
	exit $$status

.PHONY: help run test bench bench-admin build tools test-tools postgres smtp-sink cargo-test e2e api-fuzz clean

help:
	@echo "make run    install what is missing, build the release, serve on http://localhost:3000"
	@echo "make test   install what is missing, build once, run the Rust tests and the browser tests"
	@echo "make bench  build the release and measure it against the reference servers (../shared/bench)"
	@echo "make bench-admin  the admin user table at 100,000 users, on SQLite and PostgreSQL"

run: tools build
	@echo "Serving on http://localhost:3000 with data in ./data (Ctrl-C stops)."
	./target/release/gatehouse serve --public-url http://localhost:3000

# The browser tests run right after the build, on exactly what cargo-leptos produced.
test: tools test-tools build e2e api-fuzz cargo-test
	@echo "All tests passed."

# ---- Installing --------------------------------------------------------------------------------

tools: node_modules/.installed
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| { $(call timed,rustup target add wasm32-unknown-unknown,rustup target add wasm32-unknown-unknown); }
	@[ "$$(cargo leptos --version 2>/dev/null)" = "cargo-leptos $(CARGO_LEPTOS_VERSION)" ] \
		|| { $(call timed,install cargo-leptos $(CARGO_LEPTOS_VERSION) (about 20 minutes on 2 cores),cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked); }
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] \
		|| { $(call timed,install wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes),cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force); }
	@command -v zopfli >/dev/null \
		|| { $(call timed,install zopfli (the Debian package),export DEBIAN_FRONTEND=noninteractive; $(SUDO) apt-get install -y zopfli || { $(SUDO) apt-get update && $(SUDO) apt-get install -y zopfli; }); }

node_modules/.installed: package.json package-lock.json
	@$(call timed,npm packages for the build (wasm-opt),npm ci --no-audit --no-fund)
	@touch $@

test-tools: end2end/node_modules/.installed
	@command -v chromium >/dev/null \
		|| { $(call timed,install chromium (the Debian package),export DEBIAN_FRONTEND=noninteractive; $(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }); }

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	@$(call timed,npm packages for the browser tests,cd end2end && npm ci --no-audit --no-fund)
	@touch $@

# The machine's PostgreSQL cluster, started when it is not running.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 \
		|| { $(call timed,start PostgreSQL,$(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -1) main start && sleep 1 && pg_isready -h 127.0.0.1 -p 5432); }

# The SMTP sink (maildev, from end2end's npm packages), started when it is not running.
smtp-sink: test-tools
	@curl -sf $(SMTP_SINK_API)/email >/dev/null || { $(call timed,start the SMTP sink (maildev),scripts/smtp-sink.sh); }

# ---- Building and testing ----------------------------------------------------------------------

# --precompress writes a brotli and a gzip copy of every static file (the wasm bundle shrinks to
# about a third on the wire); the server sends the one the browser accepts. --split cuts the
# islands marked `#[island(lazy)]` out of the bundle, each loaded by the first page that shows it
# (required: without it the bundle does not link).
# cargo-leptos writes its gzip copies at a fast, low level; browsers that do not take brotli
# (Chrome over plain http://, for one) get zopfli's instead, the same gzip format 4 % smaller than
# `gzip -9`'s (the sign-in page's wasm: 185,170 bytes against 193,577 and cargo-leptos' 226,469).
# Both cores, a few files a process: about 15 s.
build:
	@$(call timed,cargo leptos build --release --precompress --split,cargo leptos build --release --precompress --split)
	@find target/site -name '*.gz' -print0 | xargs -0 -r -n 8 -P "$$(nproc)" sh -c 'for packed; do \
		plain="$${packed%.gz}"; [ -f "$$plain" ] || continue; \
		zopfli -c "$$plain" > "$$packed.new" && mv "$$packed.new" "$$packed" || exit 1; \
	done' zopfli-all

# cargo-nextest runs every test in a process of its own, in parallel, and times each one:
# scripts/cargo-test.sh prints the ten slowest after each run.
cargo-test: postgres smtp-sink
	@cargo nextest --version >/dev/null 2>&1 \
		|| { $(call timed,install cargo-nextest,cargo install cargo-nextest --locked); }
	@$(call timed,Rust tests on SQLite (unit and integration; reuses the release build),env -u GATEHOUSE_TEST_POSTGRES $(TEST_MAIL_ENV) $(LEPTOS_BUILD_ENV) scripts/cargo-test.sh)
	@$(call timed,Rust tests on PostgreSQL (the same tests; no new build),GATEHOUSE_TEST_POSTGRES=$(GATEHOUSE_TEST_POSTGRES) $(TEST_MAIL_ENV) $(LEPTOS_BUILD_ENV) scripts/cargo-test.sh)

# The browser tests start the release server on a free port with a throw-away data directory.
e2e: smtp-sink
	@data_dir=$$(mktemp -d); trap 'rm -rf "$$data_dir"' EXIT; \
	ports=$$(python3 -c 'import socket; s = [socket.socket() for _ in range(2)]; [x.bind(("127.0.0.1", 0)) for x in s]; print(*[x.getsockname()[1] for x in s])'); \
	port=$${ports% *}; clock_port=$${ports#* }; \
	echo "Browser tests: release server on 127.0.0.1:$$port (and one whose clock the tests move on $$clock_port), data in $$data_dir"; \
	$(call timed,Playwright against the release server,cd end2end && E2E_PORT=$$port E2E_CLOCK_PORT=$$clock_port E2E_DATA_DIR=$$data_dir E2E_SMTP='$(SMTP_SINK)' E2E_MAILBOX=$(SMTP_SINK_API) npx playwright test)

# schemathesis against /openapi.json on the release server: no input may earn a 5xx.
api-fuzz:
	@$(call timed,schemathesis against the API (no 5xx for any input),scripts/api-fuzz.sh)

# Performance: the release against ../shared/bench's reference servers, one table of targets.
bench: tools build
	@command -v wrk >/dev/null || $(SUDO) apt-get install -y wrk
	@$(call timed,benchmark against the reference servers,scripts/bench.sh)

# The administrators' user table at 100,000 users, on both backends: page and query times.
bench-admin: tools build postgres
	@$(call timed,the user table at 100000 users,scripts/bench_admin_users.py)

clean:
	cargo clean
	rm -rf node_modules end2end/node_modules end2end/test-results end2end/playwright-report
