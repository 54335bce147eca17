# Switchboard — the two commands of the README, and a few helpers.
#   make run    start the app on http://127.0.0.1:$(PORT) with demo data, no services needed
#   make test   run the whole test suite (PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set)
#   make up     the real topology (Procfile: web, two workers, the clock) on DATABASE_URL and REDIS_URL

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export PORT
# Python may keep its compiled modules (__pycache__) even where the environment says
# not to (PYTHONDONTWRITEBYTECODE): every worker.py, wsgi.py and flask command a
# test starts would otherwise compile the app again, about 0.4 s of CPU each.
unexport PYTHONDONTWRITEBYTECODE
# Test processes for `make test` (pytest-xdist; tests/support/parallel.py gives each its own
# database and Redis database). TEST_PROCESSES=0 runs the suite in one process. Four on
# two cores: a test often waits (on its browser, its worker processes, a clock), and
# four keep both cores busy (vmstat during a fresh-clone CI run, 2026-11-29: 3 % idle;
# tests 14 min 51 s and 16 min 5 s in two runs of 2,522 tests, against 15 min 28 s and
# 16 min 50 s with three for 2,430 tests the day before).
TEST_PROCESSES ?= 4

.PHONY: run up test lint install install-dev worker migrate clean translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# --no-compile: pip would compile every module of every package (half of an install's
# minute here); Python compiles the ones imported, once, as it first imports them.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements-dev.txt
	touch $(VENV)/.installed-runtime $@

install: $(VENV)/.installed-runtime

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/flask --app wsgi db upgrade

run: migrate
	$(BIN)/flask --app wsgi seed demo
	$(BIN)/python wsgi.py

# Every process of `make up` needs the same SECRET_KEY and ENCRYPTION_KEYS: made once
# into instance/up.env (not in git) unless the environment gives them.
UP_ENV ?= instance/up.env
METRICS_DIR ?= instance/metrics

up: install-dev
	@[ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ] || { \
		echo "make up needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (README, Deployment)"; exit 2; }
	@mkdir -p instance
	@[ -f $(UP_ENV) ] || $(BIN)/python -c 'import secrets; from cryptography.fernet import Fernet; \
		print("SECRET_KEY=" + secrets.token_urlsafe(48)); print("ENCRYPTION_KEYS=" + Fernet.generate_key().decode())' > $(UP_ENV)
	$(BIN)/honcho run --env $(UP_ENV) $(BIN)/flask --app wsgi db upgrade
	@# Every process writes its metrics here; /metrics adds them up (app/platform/metrics.py).
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(abspath $(METRICS_DIR)) \
		$(BIN)/honcho start --env $(UP_ENV) --port $(PORT) --concurrency worker=2

worker: install
	$(BIN)/python worker.py

test: install-dev
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile --durations=15

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# After changing system texts (app/platform/system_texts.py), a marked text or a translation:
# refresh the .po files of every language (translations/nl, translations/en) and
# compile the .mo files, which are committed (tests/platform/test_system_texts.py fails when
# they disagree), so a fresh clone needs no compile step. A new language:
# pybabel init -i translations/messages.pot -d translations -l <code>.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _l -k _lp:1c,2 --no-location -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap
	$(BIN)/pybabel compile -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
