# Buurtmonitor: two commands do the whole set-up on a fresh Debian machine with Python 3.11.
#   make run   - create .venv, install, start the dashboard
#   make test  - create .venv, install (plus Debian chromium when root), run all tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
export BROWSER_PATH ?= /usr/bin/chromium

.PHONY: run test bench sysdeps venv clean-cache

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' || \
	  { echo "Python 3.11 of nieuwer is nodig (gevonden: $$($(PYTHON) --version 2>&1))."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "Kan geen virtuele omgeving maken: installeer python3-venv."; exit 1; fi; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# System packages needed for static export and browser tests (Chromium, fonts, pdftoppm).
sysdeps:
	@bash scripts/sysdeps.sh

run: venv
	$(PY) -m streamlit run dashboard.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: venv sysdeps
	$(PY) -m pytest

bench: venv sysdeps
	$(PY) bench/run.py

clean-cache:
	rm -rf data/cache
