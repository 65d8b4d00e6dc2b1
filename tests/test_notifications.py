"""The notification outbox against a real SMTP server on loopback.

Requests are sent through the real view; the worker (``send_pending``) mails staff and
confirms to the patient. Whatever the mail server does (refuses connections, answers 5xx,
never answers), the patient gets the thank-you page at once, nothing is lost, and once the
server is back every notification arrives exactly once.
"""

import contextlib
import datetime
import itertools
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from contact.models import (
    CONFIRMATION_MAX_ATTEMPTS,
    NOTIFICATION_MAX_ATTEMPTS,
    ConsultationRequest,
    MailStatus,
    NotificationRecipient,
    retry_delay,
)
from contact.notifications import run_forever, send_pending
from contact.spam import sign_form_start

from . import smtp_server as smtp
from .conftest import BASE_DIR, MANAGE, start_worker, worker_counts, worker_env
from .factories import OfficeFactory, ServiceFactory
from .smtp_server import HangingServer, closed_port, use_smtp

# The real-SMTP fixtures, registered for this module.
smtp_factory = smtp.smtp_factory
smtp_refused = smtp.smtp_refused
smtp_server = smtp.smtp_server

pytestmark = pytest.mark.django_db

PATIENT_NAME = "Janelle Quinlan-Marsh"
PATIENT_PHONE = "(860) 555-0123"
PATIENT_PHONE_DIGITS = "8605550123"
PATIENT_EMAIL = "janelle.qm@patients.example"
PATIENT_MESSAGE = "my left knee hurts after surgery"
PATIENT_WORDS = ["knee", "surgery"]
OFFICE_PHONE = "(860) 555-0150"
CLINIC_PHONE = "(860) 555-0199"  # ClinicSettingsFactory's
FRONT_DESK = "frontdesk@example.com"
BLOOMFIELD_DESK = "bloomfield@example.com"

_addresses = itertools.count(1)


def next_ip() -> str:
    """A client address no other submission in this run has used (for the rate limit)."""
    n = next(_addresses)
    return f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}"


def form_data(**overrides) -> dict:
    data = {
        "name": PATIENT_NAME,
        "phone": PATIENT_PHONE,
        "email": PATIENT_EMAIL,
        "office": "",
        "contact_method": "phone",
        "best_time": "morning",
        "message": PATIENT_MESSAGE,
        "consent": "on",
        "website": "",
        "started": sign_form_start(time.time() - 10),
        "source": "/",
    }
    data.update(overrides)
    return data


class Submission:
    def __init__(self, response, thanks, row, elapsed):
        self.response, self.thanks, self.row, self.elapsed = response, thanks, row, elapsed


def submit(**overrides) -> Submission:
    """POST the form from a fresh browser and follow the redirect; the stored row."""
    before = set(ConsultationRequest.objects.values_list("pk", flat=True))
    client = Client()
    ip = next_ip()
    started = time.monotonic()
    response = client.post("/consultation/", form_data(**overrides), REMOTE_ADDR=ip)
    thanks = (
        client.get(response["Location"], REMOTE_ADDR=ip) if response.status_code == 302 else None
    )
    elapsed = time.monotonic() - started
    new_rows = list(ConsultationRequest.objects.exclude(pk__in=before))
    assert len(new_rows) == 1, f"expected one stored request, got {len(new_rows)}"
    return Submission(response, thanks, new_rows[0], elapsed)


def assert_thanks_page(submission: Submission) -> None:
    row = submission.row
    expected = "/consultation/thanks/"
    if row.office_id:
        expected += f"?office={row.office.slug}"
    assert submission.response.status_code == HTTPStatus.FOUND
    assert submission.response["Location"] == expected
    assert submission.thanks.status_code == HTTPStatus.OK


def fresh(rows):
    return [ConsultationRequest.objects.select_related("office").get(pk=r.pk) for r in rows]


def assert_delivered_exactly_once(server, rows, confirmed=True) -> None:
    """Each request's staff notification arrived once; each email got one confirmation
    (``confirmed=False``: none, the confirmation gave up)."""
    rows = fresh(rows)
    assert server.notification_counts() == {row.pk: 1 for row in rows}
    confirmations = Counter(tuple(m.rcpt_tos) for m in server.confirmations())
    assert confirmations == Counter((row.email,) for row in rows if row.email and confirmed)
    for row in rows:
        assert row.notified_at is not None
        assert row.notification_status == MailStatus.SENT
        assert (row.confirmation_sent_at is not None) == bool(row.email and confirmed)
        assert row.last_error == ""


def make_due(rows=None) -> None:
    """Pretend the retry time has come (instead of waiting for it)."""
    queryset = ConsultationRequest.objects.all()
    if rows is not None:
        queryset = queryset.filter(pk__in=[r.pk for r in rows])
    queryset.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


@pytest.fixture
def bloomfield():
    return OfficeFactory(name="Bloomfield Office", slug="bloomfield", phone=OFFICE_PHONE)


@pytest.fixture
def hartford():
    return OfficeFactory(name="Hartford Office", slug="hartford", phone="(860) 555-0160")


@pytest.fixture
def recipients(bloomfield, hartford):
    return [
        NotificationRecipient.objects.create(email=FRONT_DESK),
        NotificationRecipient.objects.create(email=BLOOMFIELD_DESK, office=bloomfield),
    ]


@pytest.fixture
def setup(clinic, recipients, bloomfield, hartford):
    return {"clinic": clinic, "bloomfield": bloomfield, "hartford": hartford}


def test_retry_delay_doubles_and_is_capped_at_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 8)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert retry_delay(10) == datetime.timedelta(hours=1)
    assert retry_delay(1000) == datetime.timedelta(hours=1)


def test_server_up_one_pass_sends_notifications_and_confirmations(setup, smtp_server):
    bloomfield, hartford = setup["bloomfield"], setup["hartford"]
    to_bloomfield = submit(office=str(bloomfield.pk), email="a@patients.example")
    to_hartford = submit(office=str(hartford.pk), email="b@patients.example")
    no_preference = submit(office="", email="c@patients.example")
    phone_only = submit(office=str(bloomfield.pk), email="")
    submissions = [to_bloomfield, to_hartford, no_preference, phone_only]
    rows = [s.row for s in submissions]
    for submission in submissions:
        assert_thanks_page(submission)
        assert submission.row.status == ConsultationRequest.Status.NEW
    assert smtp_server.messages == []  # the view sends nothing itself

    assert send_pending() == (4, 0)

    assert_delivered_exactly_once(smtp_server, rows)
    by_request = {m.request_id: m for m in smtp_server.staff_notifications()}
    both = sorted([FRONT_DESK, BLOOMFIELD_DESK])
    assert sorted(by_request[to_bloomfield.row.pk].rcpt_tos) == both
    assert sorted(by_request[phone_only.row.pk].rcpt_tos) == both
    assert by_request[to_hartford.row.pk].rcpt_tos == [FRONT_DESK]
    assert by_request[no_preference.row.pk].rcpt_tos == [FRONT_DESK]
    # A second pass finds nothing to do.
    assert send_pending() == (0, 0)
    assert_delivered_exactly_once(smtp_server, rows)


class Outage:
    """A mail server that fails in one way, and can come back."""

    def __init__(self, kind, settings, smtp_factory):
        self.kind, self.settings, self.smtp_factory = kind, settings, smtp_factory
        self.server = self.hang = self.port = None
        if kind == "refused":
            self.port = closed_port()
            use_smtp(settings, self.port)
        elif kind == "hang":
            self.hang = HangingServer().start()
            use_smtp(settings, self.hang.port, timeout=1)  # each try waits this long
        else:
            self.server = smtp_factory(mode=kind)

    def recover(self):
        """The server is back and accepts mail; returns the recording server."""
        if self.kind == "refused":
            return self.smtp_factory(port=self.port)  # it comes up where it was expected
        if self.kind == "hang":
            self.hang.stop()
            return self.smtp_factory()
        self.server.mode = "accept"
        return self.server

    def close(self):
        if self.hang is not None:
            self.hang.stop()


EXPECTED_ERRORS = {
    "refused": "ConnectionRefusedError",
    "reject": "SMTPDataError: (554",
    "reject_rcpt": "SMTPRecipientsRefused",
    "hang": "SMTPServerDisconnected",
}


@pytest.fixture(params=["refused", "reject", "reject_rcpt", "hang"])
def outage(request, settings, smtp_factory):
    outage = Outage(request.param, settings, smtp_factory)
    yield outage
    outage.close()


def test_failed_sends_are_kept_retried_with_backoff_and_delivered_once(setup, outage, settings):
    bloomfield = setup["bloomfield"]
    submissions = [
        submit(office=str(bloomfield.pk), email="a@patients.example"),
        submit(office="", email=""),
    ]
    rows = [s.row for s in submissions]
    for submission in submissions:
        assert_thanks_page(submission)
        # The patient never waits for the mail server, even one that hangs.
        assert submission.elapsed < 1.0

    before = timezone.now()
    started = time.monotonic()
    assert send_pending() == (0, 2)
    elapsed = time.monotonic() - started
    after = timezone.now()
    # Each failing row gives up within EMAIL_TIMEOUT (with some slack for the machine).
    assert elapsed < len(rows) * (settings.EMAIL_TIMEOUT + 1)
    for row in fresh(rows):
        assert row.notified_at is None and row.confirmation_sent_at is None
        assert row.notify_attempts == 1
        assert row.notification_status == MailStatus.WAITING  # staff mail: tried again
        assert EXPECTED_ERRORS[outage.kind] in row.last_error
        assert before + retry_delay(1) <= row.next_attempt_at <= after + retry_delay(1)
        assert row.next_attempt_at - row.received_at >= datetime.timedelta(seconds=59)
    # The patient's confirmation waits until staff have been told.
    [with_email] = [row for row in fresh(rows) if row.email]
    assert with_email.confirmation_status == MailStatus.WAITING
    assert with_email.confirmation_attempts == 0
    if outage.server is not None:
        assert outage.server.handler.rejected >= len(rows)
        assert outage.server.messages == []
    # Not due yet: a pass now leaves them alone.
    assert send_pending() == (0, 0)

    if outage.kind != "hang":  # (each hanging attempt costs EMAIL_TIMEOUT)
        retry_at = max(r.next_attempt_at for r in fresh(rows)) + datetime.timedelta(seconds=1)
        with time_machine.travel(retry_at, tick=True):
            before = timezone.now()
            assert send_pending() == (0, 2)
            after = timezone.now()
            for row in fresh(rows):
                assert row.notified_at is None
                assert row.notify_attempts == 2
                assert before + retry_delay(2) <= row.next_attempt_at <= after + retry_delay(2)
            assert send_pending() == (0, 0)

    server = outage.recover()
    retry_at = max(r.next_attempt_at for r in fresh(rows)) + datetime.timedelta(seconds=1)
    with time_machine.travel(retry_at, tick=True):
        assert send_pending() == (2, 0)
        assert send_pending() == (0, 0)
    assert_delivered_exactly_once(server, rows)
    # Even much later nothing is sent again.
    with time_machine.travel(retry_at + datetime.timedelta(days=2), tick=True):
        assert send_pending() == (0, 0)
    assert_delivered_exactly_once(server, rows)


def test_a_refused_staff_recipient_is_not_silently_dropped(setup, smtp_server, caplog):
    smtp_server.handler.refused_recipients = {BLOOMFIELD_DESK}
    submission = submit(office=str(setup["bloomfield"].pk), email="")
    send_pending()
    # The front desk got it; the Bloomfield inbox did not.
    assert [m.rcpt_tos for m in smtp_server.staff_notifications()] == [[FRONT_DESK]]
    [row] = fresh([submission.row])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert BLOOMFIELD_DESK in row.last_error  # staff see it in admin
    assert any(BLOOMFIELD_DESK in w for w in warnings)
    assert row.notified_at is not None  # the front desk has it: no second mail to them
    assert send_pending() == (0, 0)


def raw_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def body_of(mail) -> str:
    """The decoded body with the wire's CRLF line ends as plain newlines."""
    return mail.text.replace("\r\n", "\n")


def test_staff_mail_has_no_patient_details_and_links_to_admin(setup, smtp_server):
    bloomfield = setup["bloomfield"]
    needling = ServiceFactory(title="Dry needling")
    submission = submit(office=str(bloomfield.pk), service=str(needling.pk))
    row = submission.row
    assert (row.name, row.phone, row.email) == (PATIENT_NAME, PATIENT_PHONE, PATIENT_EMAIL)
    assert send_pending() == (1, 0)

    [staff] = smtp_server.staff_notifications()
    everything = "\n".join([staff.raw, staff.subject, staff.headers, staff.text])
    for secret in [PATIENT_NAME, *PATIENT_NAME.split(), PATIENT_EMAIL, PATIENT_MESSAGE]:
        assert secret.lower() not in everything.lower(), secret
    for word in PATIENT_WORDS:
        assert word not in everything.lower()
    assert PATIENT_PHONE not in everything
    assert PATIENT_PHONE_DIGITS not in raw_digits(staff.raw)
    assert PATIENT_PHONE_DIGITS not in raw_digits(staff.text + staff.subject)

    assert "Bloomfield Office" in staff.subject
    assert "Office: Bloomfield Office\nService: Dry needling\n" in body_of(staff)
    assert "Patients are told: We reply within one business day.\n" in body_of(staff)
    admin_url = f"{django_settings.SITE_URL}/admin/contact/consultationrequest/{row.pk}/change/"
    assert admin_url.startswith(("http://", "https://"))
    assert admin_url in staff.text
    assert sorted(staff.rcpt_tos) == sorted([FRONT_DESK, BLOOMFIELD_DESK])

    [confirmation] = smtp_server.confirmations()
    assert confirmation.rcpt_tos == [PATIENT_EMAIL]
    assert confirmation.message["To"] == PATIENT_EMAIL
    assert confirmation.message["Cc"] is None and confirmation.message["Bcc"] is None
    body = confirmation.subject + "\n" + confirmation.text
    for secret in [*PATIENT_NAME.split(), PATIENT_MESSAGE, *PATIENT_WORDS]:
        assert secret.lower() not in body.lower(), secret
    assert PATIENT_PHONE_DIGITS not in raw_digits(body)
    assert OFFICE_PHONE in confirmation.text  # the chosen office's own number


def test_a_request_without_a_service_says_so_to_staff(setup, smtp_server):
    submit(office="", service="")
    assert send_pending() == (1, 0)
    [staff] = smtp_server.staff_notifications()
    assert "Office: No office preference\nService: not chosen\n" in body_of(staff)


def test_mails_say_what_the_clinic_settings_say(setup, smtp_server, commit):
    clinic = setup["clinic"]
    with commit():
        clinic.reply_promise = "We call back within 4 hours <weekdays>."
        clinic.confirmation_text = "Hello from the front desk!\nYour request is with us & safe."
        clinic.save()
    submit(office="")
    assert send_pending() == (1, 0)
    [staff] = smtp_server.staff_notifications()
    assert "Patients are told: We call back within 4 hours <weekdays>.\n" in body_of(staff)
    [confirmation] = smtp_server.confirmations()
    assert confirmation.message.get_content_type() == "text/plain"
    assert body_of(confirmation).startswith(
        "Hello from the front desk!\nYour request is with us & safe.\n\n"
        "We call back within 4 hours <weekdays>.\n"
    )
    for mail in (staff, confirmation):
        assert "business day" not in mail.text
        assert "&lt;" not in mail.text and "&amp;" not in mail.text


def test_settings_text_cannot_add_mail_headers(setup, smtp_server, commit):
    """Newlines and angle brackets in the clinic's own texts stay in the body."""
    clinic = setup["clinic"]
    injected = "\r\nBcc: x@evil.example\r\nSubject: <owned>"
    with commit():
        clinic.name = "Test Motion Clinic" + injected
        clinic.reply_promise = "We reply soon." + injected
        clinic.confirmation_text = "Thanks." + injected
        clinic.save()
    submit(office="")
    assert send_pending() == (1, 0)
    assert len(smtp_server.messages) == 2
    for mail in smtp_server.messages:
        assert sorted(mail.rcpt_tos) in ([FRONT_DESK], [PATIENT_EMAIL])
        assert mail.message["Bcc"] is None
        assert len(mail.message.get_all("Subject")) == 1
        assert "\n" not in mail.subject and "\r" not in mail.subject
    [staff] = smtp_server.staff_notifications()
    assert "Patients are told: We reply soon. Bcc: x@evil.example Subject: <owned>\n" in body_of(
        staff
    )


def test_confirmation_without_office_gives_the_clinic_phone(setup, smtp_server):
    submit(office="")
    assert send_pending() == (1, 0)
    [confirmation] = smtp_server.confirmations()
    assert CLINIC_PHONE in confirmation.text
    assert setup["clinic"].name in confirmation.text


# Two workers at once. Threads cannot share pytest-django's SQLite test database: it is a
# shared-cache in-memory database, where a write by one connection makes another's read
# fail at once with "database table is locked" (SQLITE_LOCKED, which no busy timeout
# retries). So the workers are two `manage.py send_notifications` processes against a
# temporary SQLite file database.


def sqlite_worker_env(db_path, smtp_port) -> dict:
    return worker_env(f"sqlite:///{db_path}", smtp_port)


SEED_SCRIPT = """
import datetime, json, sys, django
django.setup()
from django.utils import timezone
from contact.models import ConsultationRequest, NotificationRecipient
NotificationRecipient.objects.create(email="frontdesk@example.com")
past = timezone.now() - datetime.timedelta(minutes=1)
ConsultationRequest.objects.bulk_create(
    ConsultationRequest(name=f"Patient {n}", phone="(860) 555-0123", contact_method="phone",
                        best_time="morning", consent_at=past, received_at=past,
                        next_attempt_at=past)
    for n in range(int(sys.argv[1]))
)
print(json.dumps(sorted(ConsultationRequest.objects.values_list("pk", flat=True))))
"""


@pytest.fixture(scope="module")
def migrated_sqlite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("worker-db") / "migrated.sqlite3"
    subprocess.run(
        [*MANAGE, "migrate", "--noinput"],
        env=sqlite_worker_env(path, 25),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


@pytest.fixture
def worker_db(migrated_sqlite_file, tmp_path):
    path = tmp_path / "workers.sqlite3"
    shutil.copyfile(migrated_sqlite_file, path)
    return path


def seed_requests(db_path, count) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, str(count)],
        env=sqlite_worker_env(db_path, 25),
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_worker_processes_send_each_notification_exactly_once(worker_db, smtp_server):
    env = sqlite_worker_env(worker_db, smtp_server.port)
    pks = seed_requests(worker_db, 50)
    assert len(pks) == 50
    workers = [start_worker(env) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    counts = [worker_counts(out) for out, _ in outputs]
    assert sum(sent for sent, _ in counts) == 50
    assert sum(failed for _, failed in counts) == 0
    assert smtp_server.notification_counts() == dict.fromkeys(pks, 1)
    assert smtp_server.confirmations() == []


def _opened(pid: int, path: Path) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fd_dir.iterdir())
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_worker_waits_for_a_busy_sqlite_database_instead_of_crashing(worker_db, smtp_server):
    """With SQLite's default deferred transactions, claim_next()'s read-then-UPDATE failed
    at once with "database is locked" while another connection held the write lock (SQLite
    does not busy-wait to upgrade a read lock), and send_notifications crashed. Settings now
    open SQLite transactions with BEGIN IMMEDIATE, which waits for the lock."""
    pks = seed_requests(worker_db, 1)
    # Another writer (a second worker, or the web form saving a request) holds the lock.
    other = sqlite3.connect(worker_db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        worker = start_worker(sqlite_worker_env(worker_db, smtp_server.port))
        deadline = time.monotonic() + 60
        while not _opened(worker.pid, worker_db) and worker.poll() is None:
            assert time.monotonic() < deadline, "the worker never opened the database"
            time.sleep(0.01)
        # A correct worker waits for the lock (busy timeout); give it 2 s to crash.
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=2)
    finally:
        other.execute("COMMIT")
        other.close()
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-500:]
    assert worker_counts(out) == (1, 0)
    assert smtp_server.notification_counts() == dict.fromkeys(pks, 1)


def test_honeypot_spam_is_stored_thanked_and_never_mailed(setup, smtp_server):
    spam = submit(office=str(setup["bloomfield"].pk), website="http://cheap-pills.example")
    assert_thanks_page(spam)
    assert spam.row.status == ConsultationRequest.Status.SPAM
    genuine = submit(office="", email="")
    assert genuine.row.status == ConsultationRequest.Status.NEW

    assert send_pending() == (1, 0)
    make_due()
    assert send_pending() == (0, 0)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3), tick=True):
        assert send_pending() == (0, 0)
    assert smtp_server.notification_counts() == {genuine.row.pk: 1}
    assert smtp_server.confirmations() == []
    spam_row = fresh([spam.row])[0]
    assert spam_row.notified_at is None and spam_row.notify_attempts == 0
    assert spam_row.confirmation_sent_at is None


@pytest.mark.parametrize(
    "started",
    [
        pytest.param(lambda: sign_form_start(time.time()), id="autofilled at once"),
        pytest.param(lambda: sign_form_start(time.time() - 20 * 3600), id="open overnight"),
        pytest.param(lambda: sign_form_start(time.time() + 3600), id="clock ahead"),
    ],
)
def test_every_request_but_the_honeypot_reaches_staff(setup, smtp_server, started):
    """What earlier versions filed as spam by timing alone is mailed to staff; an odd one
    says it needs review, still without any patient detail."""
    submission = submit(office=str(setup["bloomfield"].pk), started=started())
    assert_thanks_page(submission)
    assert send_pending() == (1, 0)
    [mail] = smtp_server.staff_notifications()
    assert mail.request_id == submission.row.pk
    needs_review = submission.row.status == ConsultationRequest.Status.NEEDS_REVIEW
    assert needs_review == ("needs review" in mail.subject) == ("Needs review" in mail.text)
    for secret in (PATIENT_NAME, PATIENT_PHONE, PATIENT_EMAIL, *PATIENT_WORDS):
        assert secret not in mail.raw


def test_request_without_recipients_is_kept_and_retried(clinic, bloomfield, smtp_server):
    NotificationRecipient.objects.create(email="gone@example.com", is_active=False)
    submission = submit(office=str(bloomfield.pk))
    assert_thanks_page(submission)

    before = timezone.now()
    assert send_pending() == (0, 1)
    [row] = fresh([submission.row])
    assert row.notified_at is None and row.confirmation_sent_at is None
    assert "recipients" in row.last_error
    assert row.notify_attempts == 1
    assert row.next_attempt_at >= before + retry_delay(1)
    assert smtp_server.messages == []
    assert list(ConsultationRequest.objects.mail_failed()) == [row]

    NotificationRecipient.objects.create(email=FRONT_DESK)
    with time_machine.travel(row.next_attempt_at + datetime.timedelta(seconds=1), tick=True):
        assert send_pending() == (1, 0)
        assert send_pending() == (0, 0)
    assert_delivered_exactly_once(smtp_server, [row])
    assert smtp_server.staff_notifications()[0].rcpt_tos == [FRONT_DESK]


# run_forever() closes an unusable connection between passes: commit, don't nest.
@pytest.mark.django_db(transaction=True)
def test_run_forever_sends_pending_mail_then_stops_when_told(setup, smtp_server):
    rows = [submit(office="").row, submit(office=str(setup["bloomfield"].pk), email="").row]
    passes = []

    def stop():
        passes.append(len(smtp_server.messages))
        return len(passes) > 1  # False before the first pass, True after it

    run_forever(poll_seconds=0.01, stop=stop)

    assert len(passes) == 2
    assert passes[0] == 0  # nothing had been sent before the loop ran
    assert_delivered_exactly_once(smtp_server, rows)


def test_send_notifications_command_reports_counts(setup, smtp_refused, smtp_factory):
    for submission in [submit(office=""), submit(office=str(setup["bloomfield"].pk))]:
        assert_thanks_page(submission)
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert "Sent 0, failed 2" in out.getvalue()

    server = smtp_factory(port=smtp_refused)
    make_due()
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert "Sent 2, failed 0" in out.getvalue()
    assert len(server.staff_notifications()) == 2


@pytest.mark.parametrize(
    ("overrides", "headers"),
    [
        ({}, {"HTTP_ORIGIN": "https://evil.example"}),
        ({}, {"HTTP_ORIGIN": "null"}),
        ({}, {"HTTP_SEC_FETCH_SITE": "cross-site"}),
        ({}, {"HTTP_REFERER": "https://evil.example/page"}),
        ({}, {"secure": True}),  # HTTPS with neither Origin nor Referer
    ],
)
def test_forged_or_cross_site_posts_are_refused_and_not_stored(setup, overrides, headers):
    data = {k: v for k, v in form_data(**overrides).items() if v is not None}
    response = Client().post("/consultation/", data, REMOTE_ADDR=next_ip(), **headers)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Nothing was saved" in response.content.decode()
    assert ConsultationRequest.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_REFERER": "http://testserver/articles/"},
        {"secure": True, "HTTP_ORIGIN": "https://testserver"},
    ],
)
def test_posts_from_our_own_pages_get_through(setup, headers):
    response = Client().post("/consultation/", form_data(), REMOTE_ADDR=next_ip(), **headers)
    assert response.status_code == HTTPStatus.FOUND
    assert ConsultationRequest.objects.count() == 1


def test_logs_never_carry_patient_details(setup, smtp_refused, smtp_factory, caplog):
    caplog.set_level(logging.DEBUG)
    service = ServiceFactory(title="Dry needling")
    submission = submit(office=str(setup["bloomfield"].pk), service=str(service.pk))
    assert_thanks_page(submission)
    assert send_pending() == (0, 1)
    failure_logged = [r for r in caplog.records if r.name == "contact.notifications"]
    assert failure_logged and failure_logged[0].levelno == logging.WARNING
    assert f"#{submission.row.pk}" in failure_logged[0].getMessage()

    smtp_factory(port=smtp_refused)
    make_due()
    assert send_pending() == (1, 0)

    secrets = [
        PATIENT_NAME,
        *PATIENT_NAME.split(),
        PATIENT_PHONE,
        PATIENT_PHONE_DIGITS,
        PATIENT_EMAIL,
        PATIENT_MESSAGE,
        *PATIENT_WORDS,
    ]
    # aiosmtpd, the test's own mail server, logs the SMTP conversation under "mail.log".
    app_records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert app_records
    for record in app_records:
        text = " ".join(
            [record.getMessage(), repr(record.args), record.exc_text or "", str(record.msg)]
        )
        for secret in secrets:
            assert secret.lower() not in text.lower(), (record.name, secret)
        assert PATIENT_PHONE_DIGITS not in raw_digits(record.getMessage())


def test_staff_mail_gives_up_after_its_tries_and_shows_as_failed(setup, smtp_refused):
    row = submit(office="", email="").row
    ConsultationRequest.objects.filter(pk=row.pk).update(
        notify_attempts=NOTIFICATION_MAX_ATTEMPTS - 1
    )
    assert send_pending() == (0, 1)
    [row] = fresh([row])
    assert row.notification_status == MailStatus.FAILED
    assert row.notify_attempts == NOTIFICATION_MAX_ATTEMPTS
    assert row.last_error.startswith(f"Gave up after {NOTIFICATION_MAX_ATTEMPTS} tries.")
    assert list(ConsultationRequest.objects.mail_failed()) == [row]
    make_due()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=True):
        assert send_pending() == (0, 0)  # not tried again until staff press "Resend"


def test_a_refused_patient_address_gives_up_at_once_with_the_reason(setup, smtp_server):
    smtp_server.handler.refused_recipients = {PATIENT_EMAIL}
    row = submit(office="").row
    assert send_pending() == (0, 1)
    [row] = fresh([row])
    assert row.notification_status == MailStatus.SENT  # staff have it
    assert row.confirmation_status == MailStatus.FAILED
    assert row.confirmation_attempts == 1
    assert "Gave up after 1 try" in row.confirmation_error and "550" in row.confirmation_error
    assert list(ConsultationRequest.objects.mail_failed()) == [row]
    make_due()
    assert send_pending() == (0, 0)
    assert smtp_server.confirmations() == []


def test_a_confirmation_that_keeps_failing_is_bounded(setup, smtp_server):
    row = submit(office="").row
    ConsultationRequest.objects.filter(pk=row.pk).update(
        notification_status=MailStatus.SENT, confirmation_attempts=CONFIRMATION_MAX_ATTEMPTS - 1
    )
    smtp_server.handler.mode = "reject"  # 554 to DATA: not the address's fault, retried
    assert send_pending() == (0, 1)
    [row] = fresh([row])
    assert row.confirmation_status == MailStatus.FAILED
    assert row.confirmation_error.startswith(f"Gave up after {CONFIRMATION_MAX_ATTEMPTS} tries.")
    make_due()
    assert send_pending() == (0, 0)


def test_one_confirmation_per_address_per_day(setup, smtp_server, time_machine):
    time_machine.move_to(timezone.now(), tick=True)
    rows = [
        submit(office="", email=address).row
        for address in ("pat@patients.example", "PAT@patients.example", "pat+2@patients.example")
    ]
    assert send_pending() == (3, 0)
    assert [m.rcpt_tos for m in smtp_server.confirmations()] == [["pat@patients.example"]]
    assert len(smtp_server.staff_notifications()) == 3  # staff hear of every one
    skipped = fresh(rows)[1:]
    assert {row.confirmation_status for row in skipped} == {MailStatus.NOT_SENT}
    assert all("one a day per address" in row.confirmation_error for row in skipped)
    assert not ConsultationRequest.objects.mail_failed().exists()
    time_machine.shift(datetime.timedelta(days=1))
    submit(office="", email="pat@patients.example")
    assert send_pending() == (1, 0)
    assert len(smtp_server.confirmations()) == 2


@pytest.mark.parametrize("address", ["root@localhost", "postmaster@[127.0.0.1]", "x@host.local"])
def test_no_confirmation_to_an_address_that_is_not_public(setup, smtp_server, address):
    """Rows from before the form checked addresses: the worker checks again."""
    row = submit(office="").row
    ConsultationRequest.objects.filter(pk=row.pk).update(email=address)
    assert send_pending() == (1, 0)
    [row] = fresh([row])
    assert row.confirmation_status == MailStatus.NOT_SENT
    assert "not an ordinary public address" in row.confirmation_error
    assert smtp_server.confirmations() == []
