# Quick start: `make demo` (the main job on the embedded default) and `make test` (the test suite).
# Both create .venv on first use (torch pinned to the CPU build 2.13.0) and reuse it afterwards.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vatl-installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,blazepose,formats,explain]'
	# the trackers of vatl.video, without their opencv-python requirement (their needs are in pyproject.toml)
	$(BIN)/pip install --quiet --no-deps trackers==2.6.1 supervision==0.31.2
	# BlazePose's landmark model and person detector, read out of the mediapipe wheel once and cached
	$(BIN)/vatl blazepose fetch
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vatl demo $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check vatl tests benchmarks

clean:
	rm -rf $(VENV) *.egg-info
