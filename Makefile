# make test : install kmeanskit with every extra into .venv, then lint and run the tests
# make demo : install, then cluster scikit-learn's digits and print the scores
# make browser: Debian's chromium and chromium-driver, for the report's browser test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install browser test demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@

# apt-get as root, else through sudo; nothing to do when both are already installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; }

test: install browser
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/python -m pytest --cov --cov-report=term

demo: install
	$(BIN)/kmeanskit digits

bench: install browser
	$(BIN)/python -m pip install --quiet -e ".[all,bench]"
	$(BIN)/python benchmarks/engine.py --quick

clean:
	rm -rf $(VENV) build .pytest_cache .coverage
