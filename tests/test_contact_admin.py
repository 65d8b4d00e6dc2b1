"""The admin of the ``contact`` app: consultation requests as the front desk works them."""

import csv
import datetime
import io
import re
import zoneinfo
from http import HTTPStatus

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from contact.admin import csv_safe
from contact.models import (
    ConsultationRequest,
    MailStatus,
    NotificationRecipient,
    PrivacyNotice,
    StaffNote,
)
from contact.notifications import send_pending
from pages.models import Article

from .factories import ArticleFactory, ClinicSettingsFactory, OfficeFactory, ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

Status = ConsultationRequest.Status
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
CHANGELIST = "admin:contact_consultationrequest_changelist"


def make_request(**kw):
    now = timezone.now()
    fields = {
        "name": "Pat Patient",
        "phone": "(860) 555-0100",
        "email": "",
        "contact_method": ConsultationRequest.ContactMethod.PHONE,
        "best_time": ConsultationRequest.BestTime.MORNING,
        "consent_at": now,
        "received_at": now,
        "next_attempt_at": now,
    }
    fields.update(kw)
    return ConsultationRequest.objects.create(**fields)


def changelist_url(**params):
    url = reverse(CHANGELIST)
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def listed(client, **params):
    response = client.get(changelist_url(**params))
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


def run_action(client, action, rows, **extra):
    data = {"action": action, "_selected_action": [row.pk for row in rows], **extra}
    return client.post(reverse(CHANGELIST), data)


def staff_user(username, group_name):
    user = User.objects.create_user(username, password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


# --------------------------------------------------------------------------- pages


def test_changelist_and_change_page_open_for_superuser(admin_client):
    row = make_request(office=OfficeFactory(name="Hartford"))

    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == HTTPStatus.OK
    assert list(response.context["cl"].result_list) == [row]
    assert "Hartford" in response.content.decode()

    response = admin_client.get(row.get_admin_url())
    assert response.status_code == HTTPStatus.OK
    assert "use Delete at the bottom" in response.content.decode()


def test_the_service_is_listed_filtered_and_shown_on_the_request(admin_client):
    needling = ServiceFactory(title="Dry needling")
    massage = ServiceFactory(title="Sports massage")
    chosen = make_request(service=needling)
    make_request(service=massage)
    none = make_request()

    response = admin_client.get(reverse(CHANGELIST))
    header = [column["text"] for column in response.context["result_headers"]]
    results = dict(
        zip(response.context["cl"].result_list, response.context["results"], strict=True)
    )
    column = header.index("service")
    assert "Dry needling" in results[chosen][column]
    assert "service" in [spec.title for spec in response.context["cl"].filter_specs]
    assert listed(admin_client, service__id__exact=needling.pk) == {chosen}
    assert listed(admin_client, service__isnull="True") == {none}

    html = admin_client.get(chosen.get_admin_url()).content.decode()
    field = html[html.index("field-service") :][:600]
    assert "Dry needling" in field


def test_staff_can_only_edit_status_and_assignee(admin_client):
    row = make_request(message="Knee pain")
    response = admin_client.get(row.get_admin_url())
    assert set(response.context["adminform"].form.fields) == {"status", "assigned_to"}

    # A posted name is ignored: what the patient sent stays as sent.
    data = {**inline_data(row), "name": "Someone Else", "status": Status.CONTACTED}
    response = admin_client.post(row.get_admin_url(), data)
    assert response.status_code == HTTPStatus.FOUND
    row.refresh_from_db()
    assert (row.name, row.status) == ("Pat Patient", Status.CONTACTED)


def test_add_page_is_forbidden(admin_client):
    response = admin_client.get(reverse("admin:contact_consultationrequest_add"))
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    "query",
    ["Alice", "alice@example.com", "555-0101"],
    ids=["name", "email", "phone"],
)
def test_search_finds_by_name_email_and_phone(admin_client, query):
    alice = make_request(name="Alice Archer", email="alice@example.com", phone="(860) 555-0101")
    make_request(name="Bob Baker", email="bob@example.com", phone="(860) 555-0202")
    assert listed(admin_client, q=query) == {alice}


def test_other_admin_pages_open(admin_client):
    NotificationRecipient.objects.create(email="desk@clinic.example")
    notice = PrivacyNotice.objects.create(body="<p>We keep it safe.</p>")
    for url in [
        reverse("admin:contact_notificationrecipient_changelist"),
        reverse("admin:contact_notificationrecipient_add"),
        reverse("admin:contact_privacynotice_changelist"),
        reverse("admin:contact_privacynotice_change", args=[notice.pk]),
    ]:
        assert admin_client.get(url).status_code == HTTPStatus.OK, url


# --------------------------------------------------------------------------- filters


def test_status_filter(admin_client):
    new = make_request()
    contacted = make_request(status=Status.CONTACTED)
    assert listed(admin_client, status__exact="contacted") == {contacted}
    assert listed(admin_client, status__exact="new") == {new}


def test_mail_failed_filter_and_column(admin_client):
    failing = make_request(notify_attempts=3, last_error="SMTPConnectError: refused")
    gave_up = make_request(
        notify_attempts=24,
        notification_status=MailStatus.FAILED,
        last_error="Gave up after 24 tries. SMTPConnectError: refused",
    )
    refused = make_request(
        notify_attempts=1,
        notified_at=timezone.now(),
        notification_status=MailStatus.SENT,
        confirmation_status=MailStatus.FAILED,
        confirmation_error="Gave up after 1 try. SMTPRecipientsRefused: 550",
    )
    sent = make_request(
        notify_attempts=1, notified_at=timezone.now(), notification_status=MailStatus.SENT
    )
    waiting = make_request()
    spam = make_request(status=Status.SPAM, notify_attempts=2)

    assert listed(admin_client, mail_failed="yes") == {failing, gave_up, refused}
    assert listed(admin_client) == {failing, gave_up, refused, sent, waiting, spam}

    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    cells = re.findall(r'<td class="field-notification_state">([^<]*)</td>', page)
    assert sorted(cells) == sorted(
        [
            "Failed (3 tries), retrying: SMTPConnectError: refused",
            "Gave up after 24 tries. SMTPConnectError: refused",
            "Sent. Confirmation to the patient failed (see the request)",
            "Sent",
            "Waiting",
            "Not sent (spam)",
        ]
    )


def test_overdue_counts_business_days(admin_client):
    friday_10 = datetime.datetime(2024, 5, 10, 10, 0, tzinfo=NEW_YORK)
    assert friday_10.weekday() == 4
    with time_machine.travel(friday_10, tick=False):
        friday = make_request()
        contacted = make_request(status=Status.CONTACTED)
    monday_9 = datetime.datetime(2024, 5, 13, 9, 0, tzinfo=NEW_YORK)
    with time_machine.travel(monday_9, tick=False):
        assert listed(admin_client, overdue="yes") == set()
    with time_machine.travel(monday_9 + datetime.timedelta(hours=2), tick=False):
        assert listed(admin_client, overdue="yes") == {friday}
        assert contacted in listed(admin_client)


# --------------------------------------------------------------------------- actions


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_contacted", Status.CONTACTED),
        ("mark_scheduled", Status.SCHEDULED),
        ("mark_not_a_fit", Status.NOT_A_FIT),
        ("mark_spam", Status.SPAM),
    ],
)
def test_status_actions(admin_client, action, status):
    chosen = [make_request(), make_request()]
    other = make_request()
    response = run_action(admin_client, action, chosen)
    assert response.status_code == HTTPStatus.FOUND
    for row in chosen:
        row.refresh_from_db()
        assert row.status == status
    other.refresh_from_db()
    assert other.status == Status.NEW
    messages = [str(m) for m in admin_client.get(reverse(CHANGELIST)).context["messages"]]
    assert f"2 request(s) marked {status.label}." in messages


def test_assign_to_me(admin_client, admin_user):
    chosen = make_request()
    other = make_request()
    run_action(admin_client, "assign_to_me", [chosen])
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.assigned_to == admin_user
    assert other.assigned_to is None


def test_resend_notification_resets_outbox_and_worker_sends_again(admin_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    NotificationRecipient.objects.create(email="desk@clinic.example")
    earlier = timezone.now() - datetime.timedelta(hours=2)
    later = timezone.now() + datetime.timedelta(hours=1)
    outbox_state = {
        "notified_at": earlier,
        "notify_attempts": 3,
        "next_attempt_at": later,
        "last_error": "SMTPServerDisconnected: gone",
        "confirmation_sent_at": earlier,
        "email": "pat@example.com",
        "notification_status": MailStatus.SENT,
        "confirmation_status": MailStatus.SENT,
    }
    row = make_request(**outbox_state)
    spam = make_request(status=Status.SPAM, **outbox_state)
    assert send_pending() == (0, 0)

    response = run_action(admin_client, "resend_notification", [row, spam])
    assert response.status_code == HTTPStatus.FOUND
    row.refresh_from_db()
    assert row.notified_at is None and row.notification_status == MailStatus.WAITING
    assert row.notify_attempts == 0
    assert row.last_error == ""
    assert row.next_attempt_at <= timezone.now()
    spam.refresh_from_db()
    assert (spam.notified_at, spam.notify_attempts) == (earlier, 3)
    messages = [str(m) for m in admin_client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("emailed to staff again within a minute" in m for m in messages)

    mail.outbox.clear()
    assert send_pending() == (1, 0)
    assert [m.subject for m in mail.outbox] == [
        f"New consultation request #{row.pk} (No office preference)"
    ]
    assert mail.outbox[0].to == ["desk@clinic.example"]
    row.refresh_from_db()
    assert row.notified_at is not None


def test_export_csv(admin_client):
    ClinicSettingsFactory(time_zone="America/New_York")
    received = datetime.datetime(2024, 5, 10, 14, 30, tzinfo=datetime.UTC)
    office = OfficeFactory(name="Hartford")
    nasty = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(1)"]
    rows = [make_request(name=name, received_at=received) for name in nasty]
    plain = make_request(
        name="Ann Lee",
        email="ann@example.com",
        office=office,
        service=ServiceFactory(title="Dry needling"),
        received_at=received,
        message="Line one\nline two, with a comma",
        contact_method=ConsultationRequest.ContactMethod.EMAIL,
        status=Status.CONTACTED,
    )
    not_selected = make_request(name="Not Exported")

    response = run_action(admin_client, "export_csv", [*rows, plain])
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".csv" in response["Content-Disposition"]

    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert header == [
        "id",
        "received at",
        "office",
        "service",
        "name",
        "phone",
        "email",
        "contact method",
        "best time",
        "message",
        "status",
        "assigned to",
        "staff notified at",
    ]
    assert len(body) == 5
    by_id = {int(line[0]): dict(zip(header, line, strict=True)) for line in body}
    assert not_selected.pk not in by_id
    for row, name in zip(rows, nasty, strict=True):
        assert by_id[row.pk]["name"] == "'" + name
    ann = by_id[plain.pk]
    assert ann["name"] == "Ann Lee"
    assert ann["office"] == "Hartford"
    assert ann["service"] == "Dry needling"
    assert by_id[rows[0].pk]["service"] == ""
    assert ann["email"] == "ann@example.com"
    assert ann["message"] == "Line one\nline two, with a comma"
    assert ann["contact method"] == "Email"
    assert ann["status"] == "Contacted"
    assert ann["received at"] == "2024-05-10 10:30"  # clinic time, as spreadsheets read dates
    assert ann["staff notified at"] == ""


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1 860 555 0100", "'+1 860 555 0100"),
        ("-3", "'-3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ann = Lee", "Ann = Lee"),
        (42, "42"),
        (None, ""),
    ],
)
def test_csv_safe(value, cell):
    assert csv_safe(value) == cell


def test_front_desk_can_export_change_and_erase(client):
    user = staff_user("desk", "Front desk")
    client.force_login(user)
    row = make_request()
    response = client.get(reverse(CHANGELIST))
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "export_csv" in actions
    assert "mark_contacted" in actions
    assert actions["delete_selected"] == (
        "Delete selected requests for good (a record without patient details is kept)"
    )
    response = client.post(
        reverse("admin:contact_consultationrequest_delete", args=[row.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not ConsultationRequest.objects.filter(pk=row.pk).exists()


# --------------------------------------------------------------------------- staff notes


def inline_data(row, *notes, initial=0):
    data = {
        "status": row.status,
        "assigned_to": "",
        "notes-TOTAL_FORMS": str(len(notes)),
        "notes-INITIAL_FORMS": str(initial),
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
    }
    for index, (note_id, text) in enumerate(notes):
        data[f"notes-{index}-id"] = note_id or ""
        data[f"notes-{index}-consultation"] = row.pk
        data[f"notes-{index}-text"] = text
    return data


def test_note_added_in_change_form_gets_logged_in_author(admin_client, admin_user):
    row = make_request()
    response = admin_client.post(row.get_admin_url(), inline_data(row, (None, "Left voicemail")))
    assert response.status_code == HTTPStatus.FOUND
    note = StaffNote.objects.get(consultation=row)
    assert note.text == "Left voicemail"
    assert note.author == admin_user


def test_front_desk_adds_notes_but_cannot_rewrite_old_ones(client):
    author = staff_user("first", "Front desk")
    desk = staff_user("second", "Front desk")
    row = make_request()
    old = StaffNote.objects.create(consultation=row, author=author, text="Called at 9")
    client.force_login(desk)
    page = client.get(row.get_admin_url())
    assert page.status_code == HTTPStatus.OK
    assert "Called at 9" in page.content.decode()

    data = inline_data(row, (old.pk, "Never called"), (None, "Booked Tuesday"), initial=1)
    response = client.post(row.get_admin_url(), data)
    assert response.status_code == HTTPStatus.FOUND
    notes = list(StaffNote.objects.filter(consultation=row).values_list("text", "author__username"))
    assert notes == [("Called at 9", "first"), ("Booked Tuesday", "second")]


# --------------------------------------------------------------------------- erasing


def test_delete_from_admin_erases_request_and_notes(admin_client):
    row = make_request()
    StaffNote.objects.create(consultation=row, text="Called")
    kept = make_request()
    StaffNote.objects.create(consultation=kept, text="Kept note")
    url = reverse("admin:contact_consultationrequest_delete", args=[row.pk])
    assert admin_client.get(url).status_code == HTTPStatus.OK

    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not ConsultationRequest.objects.filter(pk=row.pk).exists()
    assert not StaffNote.objects.filter(consultation_id=row.pk).exists()
    assert list(StaffNote.objects.values_list("text", flat=True)) == ["Kept note"]


def test_delete_selected_erases_requests_and_notes(admin_client):
    rows = [make_request(), make_request()]
    StaffNote.objects.create(consultation=rows[0], text="Called")
    response = run_action(admin_client, "delete_selected", rows, post="yes")
    assert response.status_code == HTTPStatus.FOUND
    assert not ConsultationRequest.objects.exists()
    assert not StaffNote.objects.exists()


# --------------------------------------------------------------------------- index


def index_counts(html):
    counts = {}
    for key in ["new", "needs-review", "overdue", "mail-failed"]:
        match = re.search(
            rf'id="request-count-{key}">.*?href="([^"]+)".*?class="request-count">(\d+)<',
            html,
            re.S,
        )
        assert match, key
        counts[key] = (int(match[2]), match[1])
    return counts


def test_admin_index_shows_request_counts(admin_client):
    make_request()  # new, not overdue yet
    make_request(received_at=timezone.now() - datetime.timedelta(days=10))  # overdue
    make_request(status=Status.CONTACTED, notify_attempts=2)  # failed
    make_request(status=Status.SPAM, notify_attempts=2)  # spam: counted nowhere
    make_request(status=Status.NEEDS_REVIEW)  # kept, notified, and counted

    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    counts = index_counts(html)
    changelist = reverse(CHANGELIST)
    assert counts == {
        "new": (2, f"{changelist}?status__exact=new"),
        "needs-review": (1, f"{changelist}?status__exact=review"),
        "overdue": (1, f"{changelist}?overdue=yes"),
        "mail-failed": (1, f"{changelist}?mail_failed=yes"),
    }
    assert 'id="app-list"' in html or "app-contact" in html  # the normal index is still there


def test_index_counts_follow_their_filters(admin_client):
    make_request(received_at=timezone.now() - datetime.timedelta(days=10))
    make_request(notify_attempts=1)
    html = admin_client.get(reverse("admin:index")).content.decode()
    for count, url in index_counts(html).values():
        response = admin_client.get(url)
        assert response.context["cl"].result_count == count


def test_admin_index_counts_hidden_from_content_editors(client):
    make_request()
    client.force_login(staff_user("editor", "Content editors"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "consultation-request-counts" not in html
    assert "Articles" in html


# --------------------------------------------------------------------------- groups


def test_groups_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Front desk", "Content editors"}


def test_front_desk_group_sees_requests_not_articles(client):
    client.force_login(staff_user("desk", "Front desk"))
    make_request()
    assert client.get(reverse(CHANGELIST)).status_code == HTTPStatus.OK
    assert client.get(reverse("admin:pages_article_changelist")).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert client.get(reverse("admin:pages_article_add")).status_code == HTTPStatus.FORBIDDEN
    html = client.get(reverse("admin:index")).content.decode()
    assert "consultation-request-counts" in html


def test_content_editors_group_sees_articles_not_requests(client):
    client.force_login(staff_user("editor", "Content editors"))
    ArticleFactory()
    assert Article.objects.count() == 1
    assert client.get(reverse("admin:pages_article_changelist")).status_code == HTTPStatus.OK
    assert client.get(reverse("admin:pages_article_add")).status_code == HTTPStatus.OK
    assert client.get(reverse(CHANGELIST)).status_code == HTTPStatus.FORBIDDEN
