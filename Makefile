# The two commands of the README's quick start:
#   make train   set up .venv, then train the network on CIFAR-10 (python train.py --impl numpy)
#   make test    set up .venv, then check the code with ruff (lint, format) and run the whole test suite
# and, while working: make test-fast  (the tests not marked slow: about 2 minutes on 2 cores)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

# The shared read-only CIFAR-10 copy beside the checkout, when there is one (tests and CI use it).
SHARED_CIFAR := $(abspath ../shared/datasets)
ifneq ($(wildcard $(SHARED_CIFAR)/cifar-10-binary.tar.gz),)
export CIFAR10_DIR ?= $(SHARED_CIFAR)
endif

.PHONY: setup train test test-fast lint bench notebook clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@# bubblewrap: the grader's sandbox (docs/grading.md); installed when we may (root, Debian or Ubuntu)
	@if ! command -v bwrap >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap) \
		|| echo "could not install bubblewrap: the grader refuses to run as root without it"; fi
	@# postgresql: the server tests/test_tuning_workers.py starts for itself (docs/tuning.md); installed when we may
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq postgresql >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql) \
		|| echo "could not install postgresql: the multi-worker tuning tests are skipped (failed under CI=true)"; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

train: setup
	$(BIN)/python train.py --impl numpy $(ARGS)

test: setup lint
	$(BIN)/python -m pytest $(ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/bench.py $(ARGS)

notebook: setup
	$(BIN)/python notebooks/execute.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
