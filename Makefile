# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
STAMP := $(VENV)/.installed

.PHONY: run serve test test-services lint format install bench audit clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# The notification worker runs beside the web server and stops with it.
run: $(STAMP)
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py setup_local && \
	{ $(PY) manage.py send_notifications --loop & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT); }

# The way production runs the app (DEBUG off): migrate, collect the static files (hashed
# names, gzip and brotli copies), then gunicorn with clinic_site/gunicorn.conf.py on
# 127.0.0.1:$(PORT) (WEB_CONCURRENCY workers, default 2). No notification worker: run
# `manage.py send_notifications --loop` beside it (docs/deploy.md).
serve: $(STAMP)
	@export DJANGO_STATIC_MANIFEST=1; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	exec $(VENV)/bin/gunicorn -c clinic_site/gunicorn.conf.py

# Node packages for the browser tests (axe-core) and `make audit` (Lighthouse), as locked.
# Without npm the browser tests are skipped (they say what to install).
NPM_STAMP := node_modules/.installed

$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund && touch $@; \
	else \
	  echo "npm not found: browser tests will be skipped (install Node.js 20 and npm)."; \
	fi

# The whole suite on SQLite with the local-memory cache; then, when TEST_DATABASE_URL
# (PostgreSQL) and REDIS_URL are both set, the same suite again against them (`make
# test-services` runs that pass alone). pytest-django creates and drops the test database
# test_<name> itself. Every test flushes the Redis database it uses, so REDIS_URL must name
# a dedicated one (e.g. redis://127.0.0.1:6379/15; the tests refuse database 0), and the
# pass's keys get their own prefix. Both passes include the browser tests (each pass takes
# about 3 minutes).
test: $(STAMP) $(NPM_STAMP)
	$(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
	  $(MAKE) --no-print-directory test-services; \
	else \
	  echo "PostgreSQL/Redis pass skipped: set TEST_DATABASE_URL and REDIS_URL to run it."; \
	fi

test-services: $(STAMP) $(NPM_STAMP)
	@[ -n "$$TEST_DATABASE_URL" ] && [ -n "$$REDIS_URL" ] || \
	  { echo "Set TEST_DATABASE_URL (postgres://...) and REDIS_URL (redis://.../15)."; exit 1; }
	DATABASE_URL="$$TEST_DATABASE_URL" CACHE_KEY_PREFIX=clinic-test $(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Benchmarks (not part of the test run); each prints its figures and checks its targets.
bench: $(STAMP)
	$(PY) bench/consultation_burst.py
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -q wrk \
		|| { apt-get update -q && apt-get install -y -q wrk; } || true
	$(PY) bench/page_speed.py

# Lighthouse scores (mobile) of every public page type, from a server it starts itself;
# prints them and fails only when something crashes. Needs Chromium at /usr/bin/chromium.
audit: $(STAMP) $(NPM_STAMP)
	$(PY) bench/lighthouse_audit.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
