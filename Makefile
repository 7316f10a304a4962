# ipam: the two commands of the README, and the rest of the developer loop.
CARGO ?= cargo

.PHONY: run test build fmt lint clean

## run: start ipamd with its embedded store in ./data on 127.0.0.1:50051
run:
	$(CARGO) run --release --bin ipamd

## test: format check, clippy with -D warnings, then every test (unit, property, end to end)
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

build:
	$(CARGO) build --release --workspace --bins

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
