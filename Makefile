# Everything from a fresh machine with only python3: `make test`, `make reproduce`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
RUN_NOTEBOOKS := $(BIN)/python -m l2o4rl.repro.notebooks run
PYTEST_WORKERS ?= 2

.PHONY: install lint test test-slow quick reproduce paper sync check-notebooks check-figures check-results bench clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[notebooks,test,craftax]"
	$(BIN)/python -m pip install --quiet -c constraints.txt --no-deps craftax
	touch $@

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The tests compile far more than they compute: with LLVM's optimisations off (XLA's CPU backend
# at level 0) the whole suite took 32 instead of 42 minutes on one worker from a cold compile
# cache, though the programs that compute more than they compile (Craftax, the learning checks)
# run slower, so a warm cache makes it 3 minutes slower (README, Testing). The slow tests keep
# XLA's defaults: their shrunk paper runs compute for an hour.
test: $(INSTALLED)
	XLA_FLAGS="$$XLA_FLAGS --xla_backend_optimization_level=0" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -m slow --durations=15

quick: $(INSTALLED)
	$(RUN_NOTEBOOKS) --scale quick --data-dir build/quick-data --figures-dir build/quick-figures

reproduce: $(INSTALLED)
	$(RUN_NOTEBOOKS) --scale cpu

paper: $(INSTALLED)
	$(RUN_NOTEBOOKS) --scale paper --figures-dir figures/paper

sync: $(INSTALLED)
	$(BIN)/python -m l2o4rl.repro.notebooks sync

check-notebooks: $(INSTALLED)
	$(BIN)/python -m l2o4rl.repro.notebooks check

check-figures: $(INSTALLED)
	$(BIN)/python -m l2o4rl.repro.notebooks check-figures

check-results: $(INSTALLED)
	$(BIN)/python -m l2o4rl.repro.audit --max-wall-s 60

bench: $(INSTALLED)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf build .pytest_cache
