# The project's commands. `make setup` is idempotent; every other target runs it first.
VENV ?= venv
PY := $(VENV)/bin/python
SDK_FILES := $(shell find sdks/segment -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: setup toolchain test lint bench demo demo-down clean

setup: $(VENV)/.installed tests/node/node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt $(SDK_FILES)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --force-reinstall --no-deps ./sdks/segment
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $@

## Build the pinned Pulumi CLI from Go modules into .toolchain/bin (docs/toolchain.md).
## Cached: a second run with nothing to rebuild takes seconds.
toolchain:
	bash toolchain/build.sh

## Run the whole test suite; the real-engine tests (tests/engine) need `make toolchain` first.
## -rs lists every skipped test with its reason (and one line sums up the real-engine ones).
test: setup
	$(PY) -m pytest -rs

## Linters and type checks (CI runs them before the tests).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy components
	bash .ci/lint-workflows.sh

## Benchmarks: each figure beside its target, PASS or MISS (a miss is measured again before it
## counts); exits non-zero on a confirmed miss. A few minutes (the first run generates events).
bench: setup
	$(PY) bench/run.py

## The main job: deploy the local stack to the sandbox and watch an event reach Pendula.
## Needs the Pulumi CLI (installed into .pulumi-cli/ when it can be downloaded).
demo:
	bash scripts/demo.sh

## Undo `make demo`: pulumi destroy (when possible), stop the sandbox, remove .sandbox/.
demo-down:
	bash scripts/demo-down.sh

clean:
	rm -rf $(VENV) tests/node/node_modules .sandbox .pulumi .toolchain
