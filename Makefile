# Two commands set up everything on a fresh machine: `make run` and `make test`.

# Python 3.11, 3.12 or 3.13: the first of python3.13, python3.12, python3.11 that runs, else
# python3 when it is 3.11 or later; `make PYTHON=/path/to/python3.12 ...` picks another.
# Each is run, not just looked up: pyenv puts shims on the PATH for versions it has not enabled.
ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
STAMP := $(VENV)/.installed
# honcho runs the Procfile's commands through the shell: `python` and `gunicorn` are .venv's.
WITH_VENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: run serve test test-services lint format install bench stack audit lighthouse lock clean

$(PY):
	@[ -n "$(PYTHON)" ] || { echo "Python 3.11, 3.12 or 3.13 is needed: none of python3.13," \
	  "python3.12, python3.11 or python3 runs one here. Install one (Debian: apt-get install" \
	  "python3 python3-venv), or name it: make PYTHON=/path/to/python3.12 run"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Exactly the versions in requirements.lock (hash-checked), then the project itself without
# dependencies. `pip check` fails when pyproject.toml asks for a package the lock lacks.
$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@$(PY) -m pip check || { echo "requirements.lock does not match pyproject.toml:" \
	  "run make lock, then make install."; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# requirements.lock: clinic-site[dev] with every dependency pinned, with hashes (pip-tools;
# the same pins serve Python 3.11 to 3.13). Run after changing pyproject.toml. Pins that
# still fit are kept; `make lock UPGRADE=1` moves everything to the newest allowed version.
# pip-compile comes from the current lock, so a lock behind pyproject.toml can be redone.
lock: $(PY)
	$(PY) -m pip install --quiet -r requirements.lock
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --extra dev \
	  --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links \
	  $(if $(UPGRADE),--upgrade) -o requirements.lock pyproject.toml
	@echo "requirements.lock: $$(grep -c '^[A-Za-z0-9]' requirements.lock) packages pinned."

# Migrate, demo content when the database is empty, then Procfile.dev under honcho: the
# development server and the notification worker, stopped together by Ctrl+C.
run: $(STAMP)
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py setup_local && \
	$(WITH_VENV) exec $(VENV)/bin/honcho --no-colour -f Procfile.dev start

# The way production runs the app (DEBUG off): migrate, collect the static files (hashed
# names, gzip and brotli copies), then the Procfile under honcho: gunicorn with
# clinic_site/gunicorn.conf.py on 127.0.0.1:$(PORT) (WEB_CONCURRENCY workers, default 2)
# and the notification worker.
serve: $(STAMP)
	@export DJANGO_STATIC_MANIFEST=1; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(WITH_VENV) exec $(VENV)/bin/honcho --no-colour start

# Node packages for the browser tests (axe-core, pa11y) and `make audit` (Lighthouse CI), as
# locked. Without npm the browser tests are skipped (they say what to install). Puppeteer
# (pa11y's) never downloads a browser: the tests use Debian's Chromium (.puppeteerrc.cjs too).
NPM_STAMP := node_modules/.installed

$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund && touch $@; \
	else \
	  echo "npm not found: browser tests will be skipped (install Node.js 20 and npm)."; \
	fi

# The whole suite on SQLite with the local-memory cache; then, when TEST_DATABASE_URL
# (PostgreSQL) and REDIS_URL are both set, the same suite again against them (`make
# test-services` runs that pass alone). pytest-django creates and drops the test database
# test_<name> itself. Every test flushes the Redis database it uses, so REDIS_URL must name
# a dedicated one (e.g. redis://127.0.0.1:6379/15; the tests refuse database 0), and the
# pass's keys get their own prefix. The browser tests, the deploy stack (its own PostgreSQL
# and Redis) and the HTML validator run in the SQLite pass only (tests/conftest.py).
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

# Benchmarks (not part of the test run; bench/README.md); each prints its figures and checks
# its targets. With TEST_DATABASE_URL (or DATABASE_URL) naming a PostgreSQL server, the
# consultation burst runs again on a scratch database there. proxy_speed brings up the
# deploy stack (nginx, PostgreSQL, Redis; exit 2, ignored here, when one is missing).
bench: $(STAMP)
	$(PY) -m bench.consultation_burst
	$(PY) -m bench.consultation_burst --paced
	@url="$${TEST_DATABASE_URL:-$$DATABASE_URL}"; case "$$url" in \
	  postgres://*|postgresql://*) echo "consultation_burst on PostgreSQL:"; \
	    $(PY) -m bench.consultation_burst --postgres "$$url";; \
	  *) echo "consultation_burst on PostgreSQL skipped: set TEST_DATABASE_URL=postgres://...";; \
	esac
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -q wrk \
		|| { apt-get update -q && apt-get install -y -q wrk; } || true
	$(PY) -m bench.page_speed
	$(PY) -m bench.proxy_speed || [ $$? = 2 ]

# docs/deploy.md on loopback for a look: nginx, 2 gunicorn and a worker (honcho) on
# PostgreSQL and Redis, until Ctrl+C. tests/test_deploy_stack.py checks the same stack.
stack: $(STAMP)
	$(WITH_VENV) $(PY) -m tests.deploy_stack

# 1. pip-audit: known vulnerabilities in requirements.lock as pinned and hashed
#    (--disable-pip: no resolving), from PyPI's advisory data. --strict: a package it could
#    not look up fails the run. Where PyPI's per-release data cannot be reached (some
#    registry mirrors serve only the package index), every package fails that way: nothing
#    was checked, and the target says so and fails. A vulnerability we accept goes here as
#    `--ignore-vuln ID` with the reason.
# 2. Lighthouse CI (`make lighthouse`). It runs even when pip-audit fails; the target then
#    fails at the end.
audit: $(STAMP)
	@status=0; \
	$(VENV)/bin/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
	  -r requirements.lock || { status=$$?; echo "pip-audit failed (exit $$status)." \
	  "\"Dependency not found on PyPI\" for packages that are there means PyPI's advisory data" \
	  "(https://pypi.org/pypi/NAME/VERSION/json) was unreachable from here: those packages" \
	  "were NOT checked for known vulnerabilities."; }; \
	$(MAKE) --no-print-directory lighthouse || status=$$?; \
	exit $$status

# Lighthouse CI on every public page type (lighthouserc.json: its URLs, the server it
# starts, Chromium's flags, the assertions), on a phone then a desktop, on Debian's
# chromium. The server is gunicorn with DEBUG off on a demo site in .lighthouseci/site
# (collectstatic as in production); reports go to .lighthouseci/reports(-desktop). Needs
# `npm ci` and /usr/bin/chromium.
LHCI_SITE := $(CURDIR)/.lighthouseci/site
lighthouse: $(STAMP) $(NPM_STAMP)
	@[ -x node_modules/.bin/lhci ] || { echo "Lighthouse CI is missing: install Node.js 20" \
	  "and npm, then run npm ci."; exit 1; }
	@[ -x "$${CHROME_PATH:-/usr/bin/chromium}" ] || { echo "Chromium not found at" \
	  "$${CHROME_PATH:-/usr/bin/chromium} (Debian: apt-get install chromium)."; exit 1; }
	rm -rf $(LHCI_SITE) && mkdir -p $(LHCI_SITE)
	@export DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_STATIC_MANIFEST=1 \
	  DATABASE_URL="sqlite:///$(LHCI_SITE)/db.sqlite3" DJANGO_MEDIA_ROOT="$(LHCI_SITE)/media" \
	  DJANGO_STATIC_ROOT="$(LHCI_SITE)/static" CHROME_PATH="$${CHROME_PATH:-/usr/bin/chromium}"; \
	unset REDIS_URL; \
	$(PY) manage.py migrate --noinput --verbosity 0 && \
	$(PY) manage.py load_demo_content && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(WITH_VENV) node_modules/.bin/lhci autorun && \
	$(WITH_VENV) node_modules/.bin/lhci autorun --collect.settings.preset=desktop \
	  --upload.outputDir=.lighthouseci/reports-desktop

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .lighthouseci
