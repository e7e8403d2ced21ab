# Two commands do all set-up on a fresh machine: `make site` and `make test`.
# Each installs what it needs (a venv from pinned PyPI packages, npm packages
# from the lock file, Debian's Chromium for the browser tests) and then works.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := site

# pyenv honours .python-version (3.13); pyodide-build needs >= 3.12.
PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
# Fixed timestamps: two builds of the same input give identical files.
export SOURCE_DATE_EPOCH ?= 1765065600
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: site test serve clean deps chromium java lint bench lock site-zensical

# Every Python package (pip included) from requirements.lock, each checked
# against its sha256; then the two local projects, from nothing but the venv
# (--no-index, built with the locked setuptools); `pip check`: the lock still
# satisfies every pin of pyproject.toml.
$(VENV)/.installed: pyproject.toml calculator/pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-index --no-deps --no-build-isolation -e . -e ./calculator
	$(PY) -m pip check
	touch $@

# After changing a pin in pyproject.toml or requirements-pip.in (needs the index).
PIP_TOOLS := pip-tools==7.6.2
lock:
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet $(PIP_TOOLS)
	build/lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--extra test --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml requirements-pip.in

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

deps: $(VENV)/.installed node_modules/.installed

# The browser tests drive Debian's Chromium; never a browser download.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# Firefox and WebKit for tests/test_engines_browser.py, from Debian (~30 s once):
# never a browser download (puppeteer-core and Selenium only drive these).
.PHONY: engines
ENGINE_PACKAGES := firefox-esr webkit2gtk-driver xvfb python3-gi gir1.2-webkit2-4.1
engines:
	@command -v firefox-esr >/dev/null && command -v WebKitWebDriver >/dev/null \
		&& command -v Xvfb >/dev/null \
		&& /usr/bin/python3 -c 'import gi; gi.require_version("WebKit2", "4.1")' 2>/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(ENGINE_PACKAGES); }

# The Nu HTML checker (npm vnu-jar) runs on Java.
java:
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }

# PIP_NO_INDEX: the build itself downloads nothing (`make test` and CI run it).
# Chromium: the build prints the PDF edition with it.
site: deps chromium
	PIP_NO_INDEX=1 $(PY) -m generator build

serve: deps
	$(PY) -m generator serve

# The same docs/ built by Zensical (pinned in pyproject.toml) into site-zensical/:
# the trial of a move; the published site is still site/ (README: Zensical).
# After `site`: the docs/ it renders, and the site the tests compare with.
site-zensical: site
	$(PY) -m generator zensical

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# One pytest run: every test, and the decision module's branch coverage at 100%.
test: deps chromium java engines lint site site-zensical
	$(PY) -m pytest -p no:cacheprovider --cov=spine_hemangioma --cov-branch \
		--cov-report=term-missing:skip-covered --cov-fail-under=100

bench: deps chromium
	$(PY) bench/run.py

clean:
	rm -rf site site-zensical .cache dist calculator/build build
	find docs -mindepth 1 -maxdepth 1 ! -name assets -exec rm -rf {} +
