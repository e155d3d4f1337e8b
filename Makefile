# make test : install kmeanskit with every extra into .venv, then lint and run the tests
# make demo : install, then cluster scikit-learn's digits (as PNG files): folders, report, scores
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

# the main job on real images an installed package ships: scikit-learn's digits written
# as PNG files into a new temporary folder, clustered with every default
demo: install
	@set -e; d=$$(mktemp -d "$${TMPDIR:-/tmp}/kmeanskit-demo.XXXXXX"); \
	$(BIN)/python -m kmeanskit.images.demo "$$d/digits"; \
	echo "+ kmeanskit cluster $$d/digits --labels-from parent --out $$d/run"; \
	$(BIN)/kmeanskit cluster "$$d/digits" --labels-from parent --out "$$d/run"; \
	echo "cluster folders: $$d/run/cluster_*; open $$d/run/report.html in a browser"

bench: install browser
	$(BIN)/python -m pip install --quiet -e ".[all,bench]"
	$(BIN)/python benchmarks/engine.py --quick

clean:
	rm -rf $(VENV) build .pytest_cache .coverage
