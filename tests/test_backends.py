"""What only PostgreSQL and Redis can show.

- A page-cache version bump by one cache client (or process) is what every other sees;
  posts at once from one address cannot pass the form's rate limit together.
- Notification workers claim rows with ``SELECT ... FOR UPDATE SKIP LOCKED``: a locked row
  is skipped, not waited for, and two workers mail each request exactly once.

They run in the second ``make test`` pass (``DATABASE_URL=$TEST_DATABASE_URL`` and
``REDIS_URL``); anywhere else they are skipped, saying what they need.
"""

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache, caches
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.db import connection, connections
from django.test import Client

from contact.models import ConsultationRequest, NotificationRecipient
from contact.notifications import claim_next, send_pending
from contact.spam import RATE_LIMIT_COUNT, sign_form_start
from pages.cache import VERSION_KEY, current_version

from . import smtp_server as smtp
from .conftest import on_postgresql, on_redis, start_worker, worker_counts, worker_env
from .factories import ArticleFactory, ClinicSettingsFactory, due_requests
from .processes import database_url

# The real-SMTP fixture, registered for this module.
smtp_factory = smtp.smtp_factory
smtp_server = smtp.smtp_server

BASE_DIR = Path(__file__).resolve().parent.parent

needs_postgresql = pytest.mark.skipif(
    not on_postgresql(),
    reason="needs PostgreSQL: set TEST_DATABASE_URL (the second `make test` pass does)",
)
needs_redis = pytest.mark.skipif(
    not on_redis(),
    reason="needs Redis: set REDIS_URL to a dedicated database, e.g. "
    "redis://127.0.0.1:6379/15 (the second `make test` pass does)",
)


def subprocess_env(**overrides) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic_site.settings", **overrides}


# The cache.


def raw_redis():
    """A redis-py client of its own: what is really stored, under the real key names."""
    import redis

    return redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])


@needs_redis
@pytest.mark.django_db
def test_page_cache_version_is_shared_with_other_clients_and_processes(client):
    ClinicSettingsFactory()
    ArticleFactory()
    assert client.get("/articles/").page_cache == "miss"
    assert client.get("/articles/").page_cache == "hit"
    version = current_version()

    # Another cache client (its own connection pool, as in another app process) and
    # redis-py itself see the same version.
    other = caches.create_connection("default")
    assert other is not caches["default"]
    assert other.get(VERSION_KEY) == version
    assert int(raw_redis().get(cache.make_key(VERSION_KEY))) == version

    # An edit saved by another process (here: one that only bumps the version) clears
    # this process's pages at once.
    bump = "import django; django.setup(); from pages.cache import invalidate; invalidate()"
    subprocess.run(
        [sys.executable, "-c", bump],
        env=subprocess_env(),
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert other.get(VERSION_KEY) == version + 1
    assert current_version() == version + 1
    assert client.get("/articles/").page_cache == "miss"
    assert client.get("/articles/").page_cache == "hit"


def valid_form() -> dict:
    return {
        "name": "Rate Limit Tester",
        "phone": "(860) 555-0123",
        "email": "",
        "office": "",
        "contact_method": "phone",
        "best_time": "morning",
        "message": "",
        "consent": "on",
        "website": "",
        "started": sign_form_start(time.time() - 10),
        "source": "/",
    }


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_from_one_address_never_pass_the_limit():
    """The rate limit's row is locked while it is counted: ten posts at once from one
    address store exactly the limit, on PostgreSQL's default isolation level."""
    ClinicSettingsFactory()
    ip = "203.0.113.45"
    start = threading.Barrier(2 * RATE_LIMIT_COUNT, timeout=30)
    statuses = []

    def post():
        try:
            start.wait()
            statuses.append(Client().post("/consultation/", valid_form(), REMOTE_ADDR=ip))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2 * RATE_LIMIT_COUNT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(r.status_code for r in statuses) == {
        HTTPStatus.FOUND: RATE_LIMIT_COUNT,
        HTTPStatus.TOO_MANY_REQUESTS: RATE_LIMIT_COUNT,
    }
    assert ConsultationRequest.objects.count() == RATE_LIMIT_COUNT
    # Another address has its own count.
    other = Client().post("/consultation/", valid_form(), REMOTE_ADDR="203.0.113.46")
    assert other.status_code == HTTPStatus.FOUND


# Claiming rows on PostgreSQL. The rows must be committed for other connections to see
# them, hence transaction=True (the tables are emptied after each test).

STAFF = "frontdesk@example.com"
STAFF_SUBJECT = re.compile(r"New consultation request #(\d+)\b")


def psycopg_connect():
    """A second session on the test database, outside Django."""
    import psycopg

    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_claim_next_skips_a_row_locked_by_another_transaction():
    assert connection.features.has_select_for_update_skip_locked
    assert connection.settings_dict["NAME"].startswith("test_")
    first, second = due_requests(2)
    table = ConsultationRequest._meta.db_table
    other = psycopg_connect()
    with connection.cursor() as cursor:
        # Were the lock waited for, fail after 5 s instead of hanging.
        cursor.execute("SET lock_timeout = '5s'")
    try:
        locked = other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [first.pk])
        assert locked.fetchone() == (first.pk,)

        started = time.monotonic()
        claimed = claim_next()
        assert claimed is not None and claimed.pk == second.pk
        assert claim_next() is None  # the first is still locked, the second is leased
        assert time.monotonic() - started < 2

        other.rollback()  # the other transaction ends: its row can be claimed
        claimed = claim_next()
        assert claimed is not None and claimed.pk == first.pk
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    claimed_rows = ConsultationRequest.objects.filter(pk__in=[first.pk, second.pk])
    assert sorted(claimed_rows.values_list("notify_attempts", flat=True)) == [1, 1]


class SlowLocmemBackend(LocmemEmailBackend):
    """Django's test mail outbox, taking a few milliseconds a message like a real server,
    so that two workers really run side by side."""

    def send_messages(self, messages):
        time.sleep(0.005)
        return super().send_messages(messages)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_worker_threads_deliver_each_request_exactly_once(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowLocmemBackend"
    ClinicSettingsFactory()
    NotificationRecipient.objects.create(email=STAFF)
    pks = [row.pk for row in due_requests(50)]
    start = threading.Barrier(2, timeout=30)
    results, errors = {}, []

    def worker(name):
        try:
            start.wait()
            results[name] = send_pending()
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    assert errors == []
    assert sum(sent for sent, _ in results.values()) == 50
    assert all(failed == 0 for _, failed in results.values())
    assert all(sent > 0 for sent, _ in results.values()), results  # both did some work

    staff_mail = [STAFF_SUBJECT.match(m.subject) for m in mail.outbox]
    assert Counter(int(m.group(1)) for m in staff_mail if m) == dict.fromkeys(pks, 1)
    rows = ConsultationRequest.objects.filter(pk__in=pks)
    assert set(rows.values_list("notify_attempts", flat=True)) == {1}  # each claimed once
    assert not rows.filter(notified_at__isnull=True).exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_on_the_test_database_send_each_exactly_once(smtp_server):
    ClinicSettingsFactory()
    NotificationRecipient.objects.create(email=STAFF)
    pks = [row.pk for row in due_requests(50)]
    env = worker_env(database_url(), smtp_server.port)
    workers = [start_worker(env) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    counts = [worker_counts(out) for out, _ in outputs]
    assert sum(sent for sent, _ in counts) == 50
    assert sum(failed for _, failed in counts) == 0
    assert smtp_server.notification_counts() == dict.fromkeys(pks, 1)
    rows = ConsultationRequest.objects.filter(pk__in=pks)
    assert set(rows.values_list("notify_attempts", flat=True)) == {1}
