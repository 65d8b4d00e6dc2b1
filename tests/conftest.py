"""Test-only settings overrides live here, not in a second settings tree.

``make test`` runs the suite twice: on SQLite with the local-memory cache, then, when
``TEST_DATABASE_URL`` and ``REDIS_URL`` are set, on PostgreSQL and Redis (the same
settings, with ``DATABASE_URL=$TEST_DATABASE_URL``). pytest-django creates and drops the
test database (``test_<name>``) itself. Every test clears the cache, which on Redis
flushes the whole Redis database: the tests refuse Redis database 0, so that they can only
be pointed at a dedicated one (``redis://127.0.0.1:6379/15``).
"""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import imagekit.conf  # noqa: F401
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from .factories import ClinicSettingsFactory

# imagekit is not an installed app (it would load Pillow in every web worker): its setting
# defaults are set when imagekit.conf is first imported. Import it here, before any test
# overrides settings, or the first test to save a picture would set them only for itself.

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]
REDIS_BACKEND = "clinic_site.cache.FailSoftRedisCache"  # the project's (settings.py)
LOCMEM_BACKEND = "django.core.cache.backends.locmem.LocMemCache"

# Property tests draw about 100 examples locally and 1,000 in CI (CI=true, as .ci/run sets);
# HYPOTHESIS_PROFILE picks one by name. Tests take the count from the profile, never their own.
# Deadlines are off: a test that posts through Django's stack is slow on a loaded machine.
_HYPOTHESIS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("dev", max_examples=100, **_HYPOTHESIS)
hypothesis_settings.register_profile("ci", max_examples=1000, print_blob=True, **_HYPOTHESIS)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def on_redis() -> bool:
    return django_settings.CACHES["default"]["BACKEND"] == REDIS_BACKEND


def _redis_db(url: str) -> int:
    """The database number in a redis:// (or unix://) URL, as redis-py reads it."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "db" in query:
        return int(query["db"][0])
    if parts.scheme in ("redis", "rediss") and parts.path.strip("/"):
        return int(parts.path.strip("/"))
    return 0


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return parts.geturl()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "locmem_cache: runs with the local-memory cache on every pass (the test moves the "
        "clock with time_machine and expects cache entries to expire by it; Redis expires "
        "them by its own clock)",
    )
    if on_redis():
        location = django_settings.CACHES["default"]["LOCATION"]
        if _redis_db(location) == 0:
            pytest.exit(
                f"REDIS_URL={_without_password(location)}: the tests flush the Redis database "
                "they use; point REDIS_URL at a dedicated one, e.g. redis://127.0.0.1:6379/15",
                returncode=4,
            )


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL + Redis pass, skip the tests marked ``one_pass`` and the browser
    tests: what they check does not depend on the suite's database or cache (the deploy
    stack brings its own PostgreSQL and Redis; a browser checks what pages look like and do),
    and they take half of a pass's time, so `make test` runs them in its SQLite pass."""
    if django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    skip = pytest.mark.skip(
        reason="run in make test's SQLite pass only: the result does not depend on the "
        "suite's database or cache (tests/conftest.py, pytest_collection_modifyitems)"
    )
    for item in items:
        if item.get_closest_marker("one_pass") or item.get_closest_marker("browser"):
            item.add_marker(skip)


def pytest_report_header(config):
    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        database = "SQLite (in-memory test database)"
    else:
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 'default port'}"
        test_name = (db.get("TEST") or {}).get("NAME") or f"test_{db['NAME']}"
        database = f"{connection.vendor} (test database {test_name} on {where})"
    caches = django_settings.CACHES["default"]
    if caches["BACKEND"] == REDIS_BACKEND:
        cache_line = (
            f"Redis {_without_password(caches['LOCATION'])}, "
            f"key prefix {caches.get('KEY_PREFIX', '')!r}"
        )
    else:
        cache_line = caches["BACKEND"].rsplit(".", 1)[-1]
    return [f"database: {database}", f"cache: {cache_line}"]


@pytest.fixture(autouse=True)
def _isolated(request, settings, tmp_path):
    """Uploaded pictures go to a temporary folder; every test starts with an empty cache."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if request.node.get_closest_marker("locmem_cache") and on_redis():
        settings.CACHES = {"default": {"BACKEND": LOCMEM_BACKEND}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fast_password_hasher(settings):
    """For modules that create users (admin_client makes a superuser per test): the real
    hasher costs about half a second a password. Not autouse: processes a test starts
    (test_multi_instance) check passwords with the production hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit():`` around an edit: what waits for its commit (the page cache's version
    bump) runs at the end of the block. Each test runs inside one transaction that never
    commits, so without it an edit never reaches cached pages."""
    return functools.partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture(scope="session", autouse=True)
def _migrated_groups(django_db_setup, django_db_blocker):
    """The staff groups and their permissions as the migrations made them: read at the
    start of the session, before any transactional test empties the tables."""
    from django.contrib.auth.models import Group

    with django_db_blocker.unblock():
        return {
            group.name: list(group.permissions.values_list("content_type__app_label", "codename"))
            for group in Group.objects.all()
        }


@pytest.fixture
def staff_groups(_migrated_groups, django_db_blocker):
    """The staff groups, made again after a transactional test emptied the tables (data
    migrations made them; a flush does not run those again, only the permissions)."""
    from django.contrib.auth.models import Group, Permission

    for name, permissions in _migrated_groups.items():
        group, made = Group.objects.get_or_create(name=name)
        if made:
            group.permissions.set(
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in permissions
            )


@pytest.fixture
def clinic():
    return ClinicSettingsFactory()


# `manage.py send_notifications` as a process of its own (test_backends, test_notifications).


def worker_env(database_url: str, smtp_port: int) -> dict:
    """The environment of a notification worker on ``database_url``, mailing through the
    SMTP server on ``smtp_port``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def start_worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [*MANAGE, "send_notifications"],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker_counts(output: str) -> tuple[int, int]:
    """(sent, failed) from a send_notifications run's output."""
    match = re.search(r"Sent (\d+), failed (\d+)", output)
    assert match, output
    return int(match.group(1)), int(match.group(2))
