# honbun — the two commands of the README are `make train` and `make test`.
# Everything is installed from the hash-locked files in requirements/ into .venv.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
CONFIG  ?= training/configs/default.toml
UV      ?= uv

.PHONY: train benchmark test lint bench livedoor clean-venv lock

$(VENV)/.run-stamp: requirements/run.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/run.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev-stamp: requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.run-stamp

## The main job: train both models on the shipped data, evaluate, record an MLflow run.
## It uses the dev lock: the evaluation compares against trafilatura and readability-lxml
## (the `baselines` extra), which the runtime lock leaves out.
train: $(VENV)/.dev-stamp
	$(BIN)/honbun train --config $(CONFIG)

## The full evaluation: leave-one-site-out with every comparison (about an hour on 2 cores).
benchmark: $(VENV)/.dev-stamp
	$(BIN)/honbun train --config training/configs/benchmark.toml

## The test suite (what .ci/run calls).
test: $(VENV)/.dev-stamp
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.dev-stamp
	$(BIN)/python benchmarks/bench_splitter.py
	$(BIN)/python benchmarks/bench_scoring.py

livedoor: $(VENV)/.run-stamp
	$(BIN)/honbun train --config training/configs/livedoor.toml

## Re-resolve the locks (needs network and uv); commit the result.
lock:
	$(UV) pip compile pyproject.toml requirements/build.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements/run.lock
	$(UV) pip compile pyproject.toml requirements/build.in --extra dev --extra baselines \
	  --extra bench --extra spark --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements/dev.lock

clean-venv:
	rm -rf $(VENV)
