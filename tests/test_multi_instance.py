"""Several app servers and notification workers on one PostgreSQL and one Redis, for real.

Two gunicorn instances (production config) and ``send_notifications --loop`` workers on
the test database and Redis, mailing an aiosmtpd server on loopback: an admin edit through
A shows at once on B; the form's rate limit counts across both; two workers mail each of
200 requests exactly once; a worker SIGKILLed mid-batch ten times loses nothing (a mail
is at worst sent twice, none left failed). Rows must be committed for the processes to
see them (``transactional_db``); the second ``make test`` pass runs these, others skip.
"""

import asyncio
import os
import re
import secrets
import signal
import time
from collections import Counter
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.db import connection

from contact.models import ConsultationRequest, NotificationRecipient, SubmissionCount
from contact.spam import RATE_LIMIT_COUNT
from contact.views import RATE_LIMIT_MESSAGE
from pages.models import Article

from .conftest import on_postgresql, on_redis
from .factories import ArticleFactory, ClinicSettingsFactory, due_requests
from .processes import HOST, AppServer, Worker, database_url, form_fields, replace_field
from .smtp_server import RecordingHandler, RecordingSMTPServer, free_port

POSTGRESQL_MISSING = (
    "needs PostgreSQL shared by several processes: set DATABASE_URL to a PostgreSQL server "
    "(the second `make test` pass does, from TEST_DATABASE_URL)"
)
REDIS_MISSING = (
    "needs Redis shared by several processes: set REDIS_URL to a dedicated database, e.g. "
    "redis://127.0.0.1:6379/15 (the second `make test` pass does)"
)
needs_postgresql = pytest.mark.skipif(not on_postgresql(), reason=POSTGRESQL_MISSING)
needs_postgresql_and_redis = pytest.mark.skipif(
    not (on_postgresql() and on_redis()),
    reason="; ".join(
        reason
        for reason, present in [(POSTGRESQL_MISSING, on_postgresql()), (REDIS_MISSING, on_redis())]
        if not present
    ),
)

# One site: every app server and worker of this module signs with the same key.
SECRET_KEY = secrets.token_urlsafe(50)
STAFF = "frontdesk@example.com"
PASSWORD = "a-long-staff-passphrase-42"
SENT_LINE = re.compile(r"Mail for consultation request #(\d+) sent")


# The environment of the subprocesses.


def site_env(tmp_path, **changes) -> dict:
    """Production-like settings on the test database and the test Redis database."""
    assert connection.settings_dict["NAME"].startswith("test_")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "EMAIL_", "GUNICORN_"))
        and name not in ("SITE_URL", "PORT", "WEB_CONCURRENCY", "REDIS_URL", "CACHE_KEY_PREFIX")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url(),
        ADMIN_URL=django_settings.ADMIN_URL,
        # No collectstatic here: whitenoise serves the apps' static folders, unhashed.
        DJANGO_STATIC_MANIFEST="0",
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_LOG_LEVEL="INFO",
        # X-Page-Cache tells these tests whether B served its cached copy (off in production).
        DJANGO_PAGE_CACHE_HEADER="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if on_redis():
        caches = django_settings.CACHES["default"]
        env.update(REDIS_URL=caches["LOCATION"], CACHE_KEY_PREFIX=caches.get("KEY_PREFIX", ""))
    env.update(changes)
    return env


def worker_env(tmp_path, smtp_port: int, **changes) -> dict:
    return site_env(
        tmp_path,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="5",
        **changes,
    )


class Processes:
    """Starts processes for one test; the fixture stops them all and prints their logs."""

    def __init__(self):
        self.started = []

    def start(self, process):
        self.started.append(process)
        return process.start()


@pytest.fixture
def processes(transactional_db):
    """Torn down before the test database is emptied: nothing holds a connection then."""
    group = Processes()
    yield group
    for process in reversed(group.started):
        process.stop(grace=10)
    for process in group.started:  # shown when the test failed
        print(process.tail())


@pytest.fixture
def app_servers(processes, tmp_path):
    """Two gunicorn instances (2 workers each) on two free ports: A and B."""
    env = site_env(tmp_path)
    servers = []
    for name in "AB":
        port = free_port()
        server = AppServer(
            {**env, "SITE_URL": f"http://{HOST}:{port}"},
            port,
            tmp_path / f"gunicorn-{name}.log",
            name=f"gunicorn {name}",
        )
        servers.append(processes.start(server))
    for server in servers:
        server.wait_until_ready()
    return servers


class SlowHandler(RecordingHandler):
    """Takes ``delay`` seconds over each message's DATA before accepting it, like a real
    mail server: a batch of 200 lasts long enough to run two workers side by side, or to
    kill one in the middle of it."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    """``start(delay)``: a recording SMTP server on loopback taking ``delay`` s a message."""
    servers = []

    def start(delay: float) -> RecordingSMTPServer:
        server = RecordingSMTPServer()
        server.handler = SlowHandler(delay)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
    return result


def notified_count() -> int:
    return ConsultationRequest.objects.filter(notified_at__isnull=False).count()


def admin_path(suffix: str = "") -> str:
    return f"/{django_settings.ADMIN_URL}{suffix}"


# 1. Two app servers.


@needs_postgresql_and_redis
def test_an_admin_edit_through_one_instance_shows_at_once_on_the_other(
    app_servers, django_user_model
):
    a, b = app_servers
    ClinicSettingsFactory()
    article = ArticleFactory(title="Dry needling explained", slug="dry-needling-explained")
    django_user_model.objects.create_superuser("editor", "editor@clinic.example", PASSWORD)
    path = article.get_absolute_url()

    # A visitor on B: the second view comes from the shared page cache.
    visitor = b.browser()
    first = visitor.get(path)
    assert first.status == HTTPStatus.OK and first.header("X-Page-Cache") == "miss"
    assert "Dry needling explained" in first.text
    warm = visitor.get(path)
    assert warm.status == HTTPStatus.OK and warm.header("X-Page-Cache") == "hit"
    assert "Dry needling explained" in warm.text
    assert not visitor.cookies  # anonymous: nothing stops B from serving its cached copy

    # Staff log in to A's admin (a real POST with Django's CSRF token) ...
    staff = a.browser()
    login_page = staff.get(admin_path("login/") + f"?next={admin_path()}")
    assert login_page.status == HTTPStatus.OK
    fields = form_fields(login_page.text, "login-form")
    fields = replace_field(fields, "username", "editor")
    fields = replace_field(fields, "password", PASSWORD)
    logged_in = staff.post(admin_path("login/"), fields)
    assert logged_in.status == HTTPStatus.FOUND, logged_in.text[-2000:]
    assert logged_in.header("Location") == admin_path()
    assert "sessionid" in staff.cookies

    # ... and change the title in the article's change form, as the page has it.
    change_url = admin_path(f"pages/article/{article.pk}/change/")
    change_page = staff.get(change_url)
    assert change_page.status == HTTPStatus.OK
    assert change_page.header("X-Page-Cache") == ""  # staff pages are never cached
    fields = form_fields(change_page.text, "article_form")
    fields = replace_field(fields, "title", "Dry needling, step by step")
    saved = staff.post(change_url, [*fields, ("_save", "Save")])
    assert saved.status == HTTPStatus.FOUND, saved.text[-3000:]
    assert saved.header("Location") == admin_path("pages/article/")
    edited = Article.objects.get(pk=article.pk)
    assert edited.title == "Dry needling, step by step"
    assert (edited.slug, edited.status) == (article.slug, Article.Status.PUBLISHED)

    # At once, on B: a fresh page with the new title, no stale cached copy.
    after = visitor.get(path)
    assert after.status == HTTPStatus.OK
    assert after.header("X-Page-Cache") == "miss"
    assert "Dry needling, step by step" in after.text
    assert "Dry needling explained" not in after.text
    again = visitor.get(path)
    assert again.header("X-Page-Cache") == "hit" and "Dry needling, step by step" in again.text


@needs_postgresql_and_redis
def test_the_consultation_rate_limit_counts_across_both_instances(app_servers, settings):
    ClinicSettingsFactory()
    # Each submission is a new visitor from 127.0.0.1 (no shared cookies), alternately on
    # A and B; each fills in the form its instance served, signed `started` field included.
    visits = []
    for n in range(RATE_LIMIT_COUNT + 1):
        server = app_servers[n % 2]
        browser = server.browser()
        page = browser.get("/consultation/")
        assert page.status == HTTPStatus.OK
        fields = dict(form_fields(page.text, "consultation-form"))
        assert fields["started"], "the form carries its signed start time"
        fields.update(name=f"Visitor {n}", phone="(860) 555-0123", consent="on")
        visits.append((server, browser, fields))
    answers = []
    for server, browser, fields in visits:
        response = browser.post("/consultation/", fields)  # Origin: the server's own
        answers.append((server.name, response.status, response.header("Location")))
    thanks = (HTTPStatus.FOUND, "/consultation/thanks/")
    assert [answer[1:] for answer in answers[:RATE_LIMIT_COUNT]] == [thanks] * RATE_LIMIT_COUNT
    # The sixth (on B, after 3 on A and 2 on B) is refused: 429, the form again saying why.
    assert answers[-1][:2] == ("gunicorn B", HTTPStatus.TOO_MANY_REQUESTS), answers
    assert RATE_LIMIT_MESSAGE.split(",")[0] in response.text
    assert 'id="consultation-form"' in response.text

    rows = ConsultationRequest.objects.all()
    assert rows.count() == RATE_LIMIT_COUNT
    assert not rows.exclude(status=ConsultationRequest.Status.NEW).exists()
    assert set(rows.values_list("flag_reason", flat=True)) == {""}
    # The one counter both instances used, in the database (the refused one counted too).
    assert list(SubmissionCount.objects.values_list("count", flat=True)) == [RATE_LIMIT_COUNT + 1]


# 2. Two notification workers at once.


@needs_postgresql
def test_two_loop_workers_mail_200_requests_exactly_once_each(slow_smtp, processes, tmp_path):
    ClinicSettingsFactory()
    NotificationRecipient.objects.create(email=STAFF)
    smtp = slow_smtp(0.005)
    env = worker_env(tmp_path, smtp.port)
    workers = [
        processes.start(Worker(env, tmp_path / f"worker-{name}.log", name=f"worker {name}"))
        for name in "AB"
    ]
    # Both are polling an empty outbox when the 200 requests arrive in one commit, so both
    # start on them within one poll interval (0.2 s) of each other.
    for worker in workers:
        worker.wait_until_running()
    pks = sorted(row.pk for row in due_requests(200))
    started = time.monotonic()
    wait_until(lambda: notified_count() == 200, 90, "all 200 requests notified", 0.1)
    elapsed = time.monotonic() - started
    codes = [worker.stop() for worker in workers]
    assert codes == [0, 0], "the workers stop cleanly on SIGTERM"

    assert smtp.notification_counts() == dict.fromkeys(pks, 1)
    assert len(smtp.messages) == 200  # nothing else was sent
    sent_by = [Counter(int(pk) for pk in SENT_LINE.findall(w.output())) for w in workers]
    total = sent_by[0] + sent_by[1]
    assert total == Counter(dict.fromkeys(pks, 1)), "each request sent by exactly one worker"
    shares = [sum(sent.values()) for sent in sent_by]
    print(f"200 requests in {elapsed:.1f} s; worker A sent {shares[0]}, worker B {shares[1]}")
    assert all(share > 0 for share in shares), f"both workers did some of the work: {shares}"
    rows = ConsultationRequest.objects.all()
    assert set(rows.values_list("notify_attempts", flat=True)) == {1}  # each claimed once
    assert set(rows.values_list("last_error", flat=True)) == {""}


# 3. A worker killed mid-batch.

LEASE_SECONDS = 2  # NOTIFICATION_LEASE_SECONDS for these workers (default 300)
KILLS = 10


@needs_postgresql
def test_killing_a_worker_mid_batch_ten_times_loses_nothing(slow_smtp, processes, tmp_path):
    ClinicSettingsFactory()
    NotificationRecipient.objects.create(email=STAFF)
    smtp = slow_smtp(0.03)  # 200 messages take at least 6 s
    # A killed worker's claimed row is leased for LEASE_SECONDS (not 5 minutes), then due
    # again: the lease ending is what brings it back, as in production.
    env = worker_env(tmp_path, smtp.port, NOTIFICATION_LEASE_SECONDS=str(LEASE_SECONDS))
    pks = sorted(row.pk for row in due_requests(200))

    killed_after = []
    for n in range(KILLS):
        before = len(smtp.handler.messages)
        worker = processes.start(Worker(env, tmp_path / f"killed-{n}.log", name=f"killed {n}"))
        # Kill it after it has had some mail accepted (3 to 7 messages), mid-batch, at a
        # different point of a send each time: 0, 10, 20 or 30 ms after a message was
        # accepted (a send takes about 30 ms). Right after is the worst moment: the row
        # is not marked yet.
        wanted = before + 3 + n % 5
        wait_until(
            lambda w=worker, k=wanted: len(smtp.handler.messages) >= k or not w.alive(),
            60,
            f"worker {n} sent {wanted - before} messages",
            0.002,
        )
        time.sleep(0.01 * (n % 4))
        assert worker.alive(), worker.tail()
        code = worker.kill()
        assert code == -signal.SIGKILL
        killed_after.append(len(smtp.handler.messages) - before)
        assert notified_count() < 200, "killed mid-batch, not after it"

    final = processes.start(Worker(env, tmp_path / "final.log", name="final worker"))
    wait_until(lambda: notified_count() == 200, 90, "all 200 requests notified", 0.1)
    assert final.stop() == 0

    counts = smtp.notification_counts()
    assert set(counts) == set(pks), "every request was notified, and only those"
    duplicates = sum(counts.values()) - len(pks)
    twice = sorted(pk for pk, count in counts.items() if count > 1)
    rows = ConsultationRequest.objects.all()
    attempts = sum(rows.values_list("notify_attempts", flat=True))
    print(
        f"{KILLS} kills after {killed_after} accepted messages each; "
        f"final worker sent {len(SENT_LINE.findall(final.output()))}; "
        f"{duplicates} duplicate(s) {twice}; {attempts - len(pks)} re-claim(s) after a lease"
    )
    # A duplicate needs a kill between the server accepting a message and the row being
    # marked: at most one per kill, each request at most twice.
    assert duplicates <= KILLS and max(counts.values()) <= 2, counts
    assert rows.count() == 200
    assert not rows.filter(notified_at__isnull=True).exists()
    assert set(rows.values_list("last_error", flat=True)) == {""}, "none left failed"
    assert all(count >= 3 for count in killed_after), killed_after
