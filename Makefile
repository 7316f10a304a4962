# ipam: the two commands of the README, and the rest of the developer loop.
CARGO ?= cargo

BENCH ?=

.PHONY: run test soak bench bench-smoke browser-deps build fmt lint clean

# Root installs Debian packages directly; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

## run: start ipamd with its embedded store in ./data on 127.0.0.1:50051, dashboard on http://127.0.0.1:8080
run:
	$(CARGO) run --release --bin ipamd -- --dashboard 127.0.0.1:8080

## test: format check, clippy with -D warnings, then every test (unit, property, end to end)
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace
	$(MAKE) bench-smoke

## soak: the core's property tests (every append applies, the rules against their oracles) with
## many more cases than `make test` runs (CASES=n to choose; release build)
soak:
	PROPTEST_CASES=$(or $(CASES),20000) $(CARGO) test --release -p ipam-core --test invariants --test address_space --test dhcp

## bench: every benchmark at its default size (one with BENCH=name); figures in target/bench/results.json
bench:
	$(CARGO) build --release -p ipam-bench -p ipam-server
	./target/release/ipam-bench $(if $(BENCH),--only $(BENCH),)

## bench-smoke: every benchmark at a tiny size, so none of them rots (part of `make test`)
bench-smoke:
	$(CARGO) run -q -p ipam-bench -- --scale tiny --json target/bench/smoke.json

## browser-deps: what the dashboard's browser test needs: Debian's chromium, and playwright-core
browser-deps:
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)
	cd tests/dashboard && npm ci --no-audit --no-fund

build:
	$(CARGO) build --release --workspace --bins

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
