# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
STAMP := $(VENV)/.installed

.PHONY: run serve test test-services lint format install bench stack audit lock clean

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
# With TEST_DATABASE_URL (or DATABASE_URL) naming a PostgreSQL server, the consultation
# burst runs again on a scratch database there. proxy_speed.py brings up the deploy stack
# (nginx, PostgreSQL, Redis; exit 2, ignored here, when one is missing).
bench: $(STAMP)
	$(PY) bench/consultation_burst.py
	$(PY) bench/consultation_burst.py --paced
	@url="$${TEST_DATABASE_URL:-$$DATABASE_URL}"; case "$$url" in \
	  postgres://*|postgresql://*) echo "consultation_burst.py on PostgreSQL:"; \
	    $(PY) bench/consultation_burst.py --postgres "$$url";; \
	  *) echo "consultation_burst.py on PostgreSQL skipped: set TEST_DATABASE_URL=postgres://...";; \
	esac
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -q wrk \
		|| { apt-get update -q && apt-get install -y -q wrk; } || true
	$(PY) bench/page_speed.py
	$(PY) bench/proxy_speed.py || [ $$? = 2 ]

# docs/deploy.md on loopback: nginx + 2 gunicorn + a worker on PostgreSQL and Redis, checked,
# left running until Ctrl+C (bench/stack.py; tests/test_deploy_stack.py runs the checks).
stack: $(STAMP)
	$(PY) bench/stack.py --keep-running

# requirements.lock: every package the project needs (runtime + dev), pinned to the version
# installed in .venv. Walked from clinic-site[dev]'s requirements, so a tool someone
# pip-installed into .venv by hand stays out. `make audit` checks this file. Run after
# changing pyproject.toml (and `make install`).
define LOCK_PY
import sys
from importlib.metadata import distribution
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pins = {}

def walk(name, extras):
    dist = distribution(name)
    key = canonicalize_name(dist.metadata["Name"])
    if key in pins and extras <= pins[key][2]:
        return
    seen = pins[key][2] | extras if key in pins else set(extras)
    pins[key] = (dist.metadata["Name"], dist.version, seen)
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {"", *seen}):
            walk(req.name, set(req.extras))

walk("clinic-site", {"dev"})
del pins["clinic-site"]
print("# Every package clinic-site[dev] needs, pinned as installed: written by `make lock`.")
print("# `make audit` checks it with pip-audit. Install with `make install` (pyproject.toml).")
for name, version, _ in sorted(pins.values(), key=lambda pin: pin[0].lower()):
    print(f"{name}=={version}")
endef
export LOCK_PY

lock: $(STAMP)
	$(PY) -c "$$LOCK_PY" > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock
	@echo "requirements.lock: $$(grep -vc '^#' requirements.lock) packages pinned."

# 1. pip-audit: known vulnerabilities (PyPI's advisory data, the default service) in
#    requirements.lock exactly as pinned (--no-deps --disable-pip: no resolving, no
#    throwaway virtualenv). --strict: a package it could not check is a failure, never a
#    silent pass. A vulnerability we accept goes here as `--ignore-vuln ID` with the reason.
# 2. Lighthouse scores (mobile) of every public page type, from a server it starts itself;
#    prints them and fails only when something crashes. Needs Lighthouse (`npm ci`) and
#    Chromium at /usr/bin/chromium (or CHROME_PATH); without them it says what is missing.
#    When pip-audit cannot read PyPI's per-release data (some registry mirrors serve only the
#    project pages), bench/pypi_advisories.py reads the project pages instead: it answers
#    for every pin that is its project's newest release and lists the others.
# Lighthouse runs even when pip-audit fails; the target then fails at the end.
audit: $(STAMP)
	@status=0; \
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
	  -r requirements.lock || { status=$$?; echo "pip-audit failed (exit $$status), see above." \
	  "(\"not found on PyPI\" for a package that is there: https://pypi.org/pypi/NAME/VERSION/json" \
	  "was unreachable from here.) Falling back to PyPI's project pages:"; \
	  $(PY) bench/pypi_advisories.py requirements.lock; }; \
	$(MAKE) --no-print-directory $(NPM_STAMP) || echo "npm ci failed, see above."; \
	missing=""; \
	[ -x node_modules/.bin/lighthouse ] || \
	  missing="Lighthouse (install Node.js 20 and npm, then run npm ci)"; \
	[ -x "$${CHROME_PATH:-/usr/bin/chromium}" ] || \
	  missing="$${missing:+$$missing and }Chromium at $${CHROME_PATH:-/usr/bin/chromium}"; \
	if [ -n "$$missing" ]; then \
	  echo "Lighthouse audit skipped: $$missing not found."; \
	else \
	  $(PY) bench/lighthouse_audit.py || status=$$?; \
	fi; \
	exit $$status

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
