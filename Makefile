# ipam: the two commands of the README, and the rest of the developer loop.
CARGO ?= cargo

BENCH ?=

.PHONY: run test bench bench-smoke build fmt lint clean

## run: start ipamd with its embedded store in ./data on 127.0.0.1:50051
run:
	$(CARGO) run --release --bin ipamd

## test: format check, clippy with -D warnings, then every test (unit, property, end to end)
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace
	$(MAKE) bench-smoke

## bench: every benchmark at its default size (one with BENCH=name); figures in target/bench/results.json
bench:
	$(CARGO) build --release -p ipam-bench -p ipam-server
	./target/release/ipam-bench $(if $(BENCH),--only $(BENCH),)

## bench-smoke: every benchmark at a tiny size, so none of them rots (part of `make test`)
bench-smoke:
	$(CARGO) run -q -p ipam-bench -- --scale tiny --json target/bench/smoke.json

build:
	$(CARGO) build --release --workspace --bins

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
