# make test : install kmeanskit with every extra into .venv, then lint and run the tests
# make demo : install, then cluster scikit-learn's digits and print the scores
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install test demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest --cov --cov-report=term

demo: install
	$(BIN)/kmeanskit digits

bench: install
	$(BIN)/python -m pip install --quiet -e ".[all,bench]"
	$(BIN)/python benchmarks/engine.py --quick

clean:
	rm -rf $(VENV) build .pytest_cache .coverage
