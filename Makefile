# Buurtmonitor: two commands do the whole set-up on a fresh Debian machine with Python 3.11.
#   make run   - create .venv, install, start the dashboard on http://127.0.0.1:8501
#   make test  - create .venv, install with the test tools (plus Debian chromium etc. when
#                root), lint (ruff, mypy) and run all tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
export BROWSER_PATH ?= /usr/bin/chromium

.PHONY: run test test-fast lint typecheck bench sysdeps venv venv-dev clean-cache

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' || \
	  { echo "Python 3.11 of nieuwer is nodig (gevonden: $$($(PYTHON) --version 2>&1))."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "Kan geen virtuele omgeving maken: installeer python3-venv."; exit 1; fi; }
	@touch $@

$(VENV)/.installed: $(VENV)/.created requirements.txt pyproject.toml
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

# System packages needed for static export and browser tests (Chromium, fonts, pdftoppm).
sysdeps:
	@bash scripts/sysdeps.sh

run: venv
	$(PY) -m streamlit run dashboard.py --server.address $(ADDRESS) --server.port $(PORT) \
	  --server.headless true --browser.gatherUsageStats false

lint: venv-dev
	$(PY) -m ruff check .
	$(MAKE) --no-print-directory typecheck

# mypy on the I/O layer and the pure domain (the Streamlit layer is checked by its tests)
typecheck: venv-dev
	$(PY) -m mypy loaders buurtmonitor

test: venv-dev sysdeps lint
	$(PY) -m pytest

# the fast lane: no browser, no slow tests (under a minute)
test-fast: venv-dev
	$(PY) -m pytest -m "not browser and not slow" -q -n auto

bench: venv-dev sysdeps
	$(PY) bench/run.py

clean-cache:
	rm -rf data/cache
