# Two commands set up a fresh machine: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= demo

.PHONY: run test bench lint check clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

run: $(BIN)/activate
	$(BIN)/resilience run $(SCENARIO) --bands --overwrite --out runs/$(notdir $(basename $(SCENARIO)))
	$(BIN)/resilience report runs/$(notdir $(basename $(SCENARIO)))

test: $(BIN)/activate
	$(BIN)/python -m pytest

bench: $(BIN)/activate
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only --benchmark-columns=min,mean,max,rounds

lint: $(BIN)/activate
	$(BIN)/ruff check resilience kernels tests benchmarks
	$(BIN)/ruff format --check resilience kernels tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# What a change is checked with: lint, the test suite and the benchmarks (kernel speed and
# ratios, compile time), which print their figures beside the targets.
check: lint test bench

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis .benchmarks .mypy_cache .ruff_cache
