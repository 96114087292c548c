# canarykit — developer entry points. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test validate bench lint format samples figures clean
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# the demo makes its own keys (OUT/promotion/keys) and runs on the existing .venv when there is
# one (no reinstall, no download); `make install` refreshes it
demo:
	@test -x $(BIN)/canarykit || $(MAKE) install
	$(BIN)/canarykit demo --out demo_out

# the dashboard test drives Debian's chromium (never a downloaded browser)
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser test"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: install browser
	CANARYKIT_REQUIRE_BROWSER=1 CANARYKIT_REQUIRE_MLFLOW=1 CANARYKIT_REQUIRE_SPARK=1 $(BIN)/python -m pytest -q

validate: install
	$(BIN)/python benchmarks/validate.py --scale 1 --out docs/validation.md

# tea-tasting is a comparison baseline of the bench only (never a dependency of the package)
bench: install
	-$(BIN)/python -m pip install --quiet tea-tasting
	$(BIN)/python benchmarks/run.py --out benchmarks/RESULTS.md

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check canarykit tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format canarykit tests benchmarks
	$(BIN)/ruff check --fix .

samples: install
	$(BIN)/python data/samples/make_samples.py

figures: install
	$(BIN)/python docs/make_figures.py

clean:
	rm -rf demo_out .pytest_cache .mypy_cache .ruff_cache build *.egg-info
