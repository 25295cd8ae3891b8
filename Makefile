# Custodia: the two quick-start commands and the checks CI runs.
#   make demo   set up, generate a realistic multi-source brand and run every pipeline stage
#   make test   set up and run lint, types, layer contracts and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= .custodia-demo
CUSTOMERS ?= 2000
SEED ?= 7
# Optional extras to install too; CI adds `spark` so the Spark engine's tests run there.
EXTRAS ?= dev

.PHONY: demo test check lint types layers security pytest docs bench clean

$(BIN)/custodia: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(BIN)/custodia

demo: $(BIN)/custodia
	rm -rf $(DEMO_HOME)
	$(BIN)/custodia --home $(DEMO_HOME) demo --customers $(CUSTOMERS) --seed $(SEED)

test: check pytest

check: lint types layers security

lint: $(BIN)/custodia
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(BIN)/custodia
	$(BIN)/mypy

layers: $(BIN)/custodia
	$(BIN)/lint-imports

# Static security scan: medium and high findings fail (justified skips in pyproject [tool.bandit]).
security: $(BIN)/custodia
	$(BIN)/bandit -c pyproject.toml -r src -ll -q

pytest: $(BIN)/custodia
	$(BIN)/pytest -n 2 -q --durations=25

docs: $(BIN)/custodia
	$(BIN)/python -m custodia.core.model_doc docs/data-model.md

bench: $(BIN)/custodia
	$(BIN)/python benchmarks/bench_demo_generation.py
	$(BIN)/python benchmarks/bench_delta_append.py
	$(BIN)/python benchmarks/bench_sql_count.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
