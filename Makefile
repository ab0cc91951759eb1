# faceproof: `make run` starts it, `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
FACEPROOF_HOME ?= $(HOME)/.cache/faceproof
export FACEPROOF_HOME
MODELS := $(FACEPROOF_HOME)/models
CARGO_FLAGS := --release --locked
BIN := target/release/faceproof
SHARED ?= $(abspath ../shared)

.PHONY: run test test-scale validate-deploy setup models build bench lint fmt

setup:
	@bash scripts/setup.sh

models: setup
	@bash scripts/fetch-models.sh "$(MODELS)"

# The service, the web capture SDK it serves at /sdk/ and /demo/ (sdk/web/dist, built from the
# lockfile by scripts/sdk.sh, which also installs Debian's chromium for the browser tests) and the
# operator console at /console/ (console/dist, scripts/console.sh) and the interactive API reference
# at /docs (Swagger UI's files from the lockfile, apidocs/dist, scripts/apidocs.sh).
build: setup
	cargo build $(CARGO_FLAGS) --bin faceproof
	bash scripts/sdk.sh
	bash scripts/console.sh
	bash scripts/apidocs.sh

# `run` starts the HTTP service on the embedded default (SQLite + artefacts under $FACEPROOF_HOME) on
# 127.0.0.1:8080; the first start creates the demo tenant and prints its credentials.
run: models build
	$(BIN) --pretty serve

# Lint first (formatting and clippy -D warnings are part of the tests), the model pack's numbers and the
# deployment files (scripts/validate-deploy.sh), then every test on the embedded
# default (SQLite + local files), then the storage and HTTP suites again on PostgreSQL + S3 (moto),
# both started on loopback by scripts/test-services.sh and stopped after; then the web SDK in real
# Chromium against `faceproof serve` (sdk/web/test, docs/sdk.md), the operator console in Chromium
# (console/test, docs/console.md) and three replicas behind HAProxy
# (scripts/test-scale.sh, docs/scaling.md).
test: lint models build
	$(FACEPROOF_HOME)/venv/bin/python models/verify.py --models "$(MODELS)"
	bash scripts/validate-deploy.sh
	cargo test $(CARGO_FLAGS) --workspace
	bash scripts/test-services.sh install
	FACEPROOF_TEST_REQUIRE=postgres,s3 bash scripts/test-services.sh run -- cargo test $(CARGO_FLAGS) \
	  -p faceproof-store -p faceproof-server --test store --test advance --test fpt --test silent --test ops \
	  --test webhooks --test ratelimit \
	  --test capture --test hardening --test gallery --test console
	FACEPROOF_SHARED="$(SHARED)" FACEPROOF_BIN="$(abspath $(BIN))" PYTHON="$(FACEPROOF_HOME)/venv/bin/python" \
	  node --test sdk/web/test/
	FACEPROOF_SHARED="$(SHARED)" FACEPROOF_BIN="$(abspath $(BIN))" node --test console/test/
	bash scripts/test-scale.sh

# Three `faceproof serve` replicas on one PostgreSQL + one S3 (moto) behind HAProxy, on loopback:
# cross-replica reads, single use across replicas, kill -9 under load, rolling restart, retention
# (scripts/test-scale.sh, about 3-4 minutes; docs/scaling.md).
test-scale: models build
	bash scripts/test-scale.sh

# The Kubernetes manifests against the API's JSON schemas, the ConfigMap's TOML against the binary.
validate-deploy: build
	bash scripts/validate-deploy.sh

# Each stage beside its floor and concurrent throughput (in process), then whole processes:
# `faceproof check` against the Python reference pipeline and a long clip against its first 6 s,
# alternating A and B (bench/ab.py); FPT requests through `faceproof serve`, one at a time and
# from 4 clients (bench/serve_load.py); per model and decode alone; then 1:N search latency and
# memory per template at 10k / 100k / 1M synthetic templates (docs/gallery.md).
bench: models build
	$(BIN) bench check --table --concurrency 4 --models "$(MODELS)"
	$(FACEPROOF_HOME)/venv/bin/python bench/ab.py --bin $(BIN) --models "$(MODELS)" \
	  --python $(FACEPROOF_HOME)/venv/bin/python --shared "$(SHARED)"
	ffmpeg -v error -y -i "$(SHARED)/data/videos/live_talking_720x1280.mp4" -t 6 -c copy /tmp/faceproof-standard.mp4
	python3 bench/serve_load.py --bin $(BIN) --models "$(MODELS)" --video /tmp/faceproof-standard.mp4 \
	  --id "$(SHARED)/data/faces/alex_lacamoire/1.jpg"
	$(BIN) bench models --models "$(MODELS)"
	$(BIN) bench media
	$(BIN) bench gallery --table

lint: setup
	cargo fmt --all -- --check
	cargo clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all
