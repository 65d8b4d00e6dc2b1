"""The front desk's admin as a "Front desk" group member (not a superuser) uses it.

Every link on the request pages opens; a request is erased with a record that keeps no
patient details; a phone number typed in any format finds its request; every time is in
the clinic's zone and written one way.
"""

import csv
import datetime
import io
import re
import zoneinfo
from html.parser import HTMLParser
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from contact.models import (
    ConsultationRequest,
    ErasureRecord,
    NotificationRecipient,
    PrivacyNotice,
    StaffNote,
)

from .factories import ClinicSettingsFactory, OfficeFactory, ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

CHANGELIST = reverse("admin:contact_consultationrequest_changelist")
ERASURES = reverse("admin:contact_erasurerecord_changelist")
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")  # not settings.TIME_ZONE (New York)


def make_request(**kw):
    now = timezone.now()
    fields = {
        "name": "Pat Patient",
        "phone": "(860) 555-0199",
        "email": "pat@example.com",
        "message": "My knee hurts after running.",
        "contact_method": ConsultationRequest.ContactMethod.PHONE,
        "best_time": ConsultationRequest.BestTime.MORNING,
        "consent_at": now,
        "received_at": now,
        "next_attempt_at": now,
    }
    fields.update(kw)
    return ConsultationRequest.objects.create(**fields)


def staff_user(username, group_name="Front desk", **kw):
    user = User.objects.create_user(username, password="x" * 12, is_staff=True, **kw)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def desk(client):
    user = staff_user("desk", first_name="Dana", last_name="Desk")
    client.force_login(user)
    return user


@pytest.fixture
def busy_request():
    """A request with everything that could be drawn as a link: office, service, assignee,
    the privacy notice agreed to, notes by two people."""
    notice = PrivacyNotice.objects.create(body="<p>We keep it safe.</p>")
    colleague = staff_user("colleague", first_name="Cole", last_name="League")
    row = make_request(
        office=OfficeFactory(name="Avon", slug="avon"),
        service=ServiceFactory(title="Dry needling"),
        assigned_to=colleague,
        privacy_notice=notice,
        privacy_notice_version=notice.version,
    )
    StaffNote.objects.create(consultation=row, author=colleague, text="Left a voicemail")
    StaffNote.objects.create(consultation=row, author=None, text="Imported note")
    make_request(
        name="Other Patient", phone="(203) 555-0100", office=OfficeFactory(is_active=False)
    )
    return row


# --------------------------------------------------------------------------- links


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith("#"):
            self.hrefs.append(href)


def shown(html, field):
    """What a read-only field of a change page shows (its HTML)."""
    rest = html[html.index(f"field-{field}") :]
    return re.search(r'<div class="readonly">(.*?)</div>', rest, re.S).group(1).strip()


def links(html):
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def crawl(client, starts, expand_under="/admin/contact/"):
    """GET every admin link on the pages under ``expand_under`` reachable from ``starts``
    (pages with a query string are opened, not followed further): {url: status}."""
    seen, queue, statuses = set(), list(starts), {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        statuses[url] = response.status_code
        parts = urlsplit(url)
        if response.status_code != HTTPStatus.OK or parts.query:
            continue
        if not parts.path.startswith(expand_under) or "text/html" not in response["Content-Type"]:
            continue
        for href in links(response.content.decode()):
            target = urljoin(url, href)
            if urlsplit(target).path.startswith("/admin/") and target not in seen:
                queue.append(target)
    return statuses


def test_every_link_on_the_request_pages_opens_for_the_front_desk(client, desk, busy_request):
    erased = make_request(name="Gone Patient")
    client.post(
        reverse("admin:contact_consultationrequest_delete", args=[erased.pk]), {"post": "yes"}
    )

    statuses = crawl(client, [CHANGELIST, busy_request.get_admin_url(), ERASURES])

    broken = {url: status for url, status in statuses.items() if status >= 400}
    assert broken == {}
    # The crawl reached every request page: list, change, notes, history, delete, erasures.
    opened = set(statuses)
    for url in [
        busy_request.get_admin_url(),
        reverse("admin:contact_consultationrequest_history", args=[busy_request.pk]),
        reverse("admin:contact_consultationrequest_delete", args=[busy_request.pk]),
        reverse("admin:contact_erasurerecord_change", args=[ErasureRecord.objects.get().pk]),
        reverse("admin:contact_privacynotice_text", args=[busy_request.privacy_notice.pk]),
    ]:
        assert url in opened, url
    assert len(statuses) > 40


def test_related_rows_are_text_or_their_public_page_never_a_forbidden_admin_page(
    client, desk, busy_request
):
    html = client.get(busy_request.get_admin_url()).content.decode()
    hrefs = links(html)
    assert busy_request.office.get_absolute_url() in hrefs
    assert not any("/admin/pages/" in href or "/admin/auth/user/" in href for href in hrefs)
    assert shown(html, "office_shown") == (
        f'Avon (<a href="{busy_request.office.get_absolute_url()}">its page on the website</a>)'
    )
    assert shown(html, "service_shown").startswith("Dry needling (<a href=")
    notes = html[html.index('id="notes-group"') :]
    assert "Cole League" in notes and "Left a voicemail" in notes


def test_an_inactive_office_is_plain_text(client, desk):
    row = make_request(office=OfficeFactory(name="Old Mill", is_active=False))
    html = client.get(row.get_admin_url()).content.decode()
    assert shown(html, "office_shown") == "Old Mill"


def test_a_read_only_user_sees_the_assignee_and_offices_as_text(client, busy_request):
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contact",
            codename__in=[
                "view_consultationrequest",
                "view_staffnote",
                "view_notificationrecipient",
            ],
        )
    )
    reader = User.objects.create_user("reader", password="x" * 12, is_staff=True)
    reader.groups.add(readers)
    client.force_login(reader)
    html = client.get(busy_request.get_admin_url()).content.decode()
    assert shown(html, "assigned_to_name") == "Cole League"
    # The notice's text is not theirs to open: its version, without a link.
    assert shown(html, "privacy_notice_named") == f"Version {busy_request.privacy_notice.version}"
    recipient = NotificationRecipient.objects.create(
        email="d@clinic.example", office=busy_request.office
    )
    statuses = crawl(
        client,
        [
            busy_request.get_admin_url(),
            reverse("admin:contact_notificationrecipient_change", args=[recipient.pk]),
        ],
    )
    assert {url: status for url, status in statuses.items() if status >= 400} == {}


# --------------------------------------------------------------------------- erasing

PATIENT_DETAILS = ["Pat Patient", "Sam Second", "860", "555", "0199", "@example.com", "knee"]


def assert_no_patient_details(record):
    kept = " ".join(str(getattr(record, field.attname)) for field in record._meta.fields)
    kept += " " + str(record)
    for detail in PATIENT_DETAILS:
        assert detail.lower() not in kept.lower(), (detail, kept)


def messages_shown(response):
    return [str(message) for message in response.context["messages"]]


def test_front_desk_erases_one_request_with_django_confirmation_and_a_record(client, desk):
    ClinicSettingsFactory(time_zone="America/Los_Angeles")
    received = datetime.datetime(2024, 5, 10, 14, 30, tzinfo=datetime.UTC)
    row = make_request(office=OfficeFactory(name="Avon"), received_at=received)
    StaffNote.objects.create(consultation=row, author=desk, text="Called, no answer")
    kept = make_request(name="Sam Second", phone="(860) 555-0111")
    url = reverse("admin:contact_consultationrequest_delete", args=[row.pk])

    page = client.get(url)
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert f"Erase Request #{row.pk} (May 10, 2024, 7:30 a.m.) for good?" in html
    assert "We keep only a record that the request existed" in html
    assert '<select name="reason" id="erasure-reason">' in html
    assert "Staff note: Note by desk at" in html  # the notes go with it, as text

    with time_machine.travel(datetime.datetime(2024, 6, 3, 16, 0, tzinfo=datetime.UTC), tick=False):
        response = client.post(url, {"post": "yes", "reason": "patient_asked"}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert messages_shown(response) == [
        f"Request #{row.pk} was erased. A record that it existed, without any patient details, "
        "is kept."
    ]
    assert list(ConsultationRequest.objects.all()) == [kept]
    assert not StaffNote.objects.filter(consultation_id=row.pk).exists()

    record = ErasureRecord.objects.get()
    assert (record.request_number, record.received_at, record.office) == (row.pk, received, "Avon")
    assert (record.erased_by, record.reason) == (desk, ErasureRecord.Reason.PATIENT_ASKED)
    assert record.erased_at == datetime.datetime(2024, 6, 3, 16, 0, tzinfo=datetime.UTC)
    assert_no_patient_details(record)
    # Django's history of the deletion names the request by number and time only.
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert entry.object_repr == f"Request #{row.pk} (May 10, 2024, 7:30 a.m.)"


def test_front_desk_erases_two_requests_at_once(client, desk):
    rows = [
        make_request(),
        make_request(name="Sam Second", office=OfficeFactory(name="Bloomfield")),
    ]
    StaffNote.objects.create(consultation=rows[1], author=desk, text="Booked")
    kept = make_request(name="Kept Patient", phone="(203) 555-0100")
    data = {"action": "delete_selected", "_selected_action": [row.pk for row in rows]}

    confirm = client.post(CHANGELIST, data)
    assert confirm.status_code == HTTPStatus.OK
    html = confirm.content.decode()
    assert "Erase the 2 selected requests for good?" in html
    assert "We keep only a record that each request existed" in html
    assert 'name="reason"' in html

    response = client.post(CHANGELIST, {**data, "post": "yes", "reason": "mistake"}, follow=True)
    numbers = sorted(row.pk for row in rows)
    assert messages_shown(response) == [
        f"2 request(s) were erased (#{numbers[0]}, #{numbers[1]}). A record that it existed, "
        "without any patient details, is kept."
    ]
    assert list(ConsultationRequest.objects.all()) == [kept]
    assert not StaffNote.objects.exists()
    records = ErasureRecord.objects.order_by("request_number")
    assert [(r.request_number, r.office, r.erased_by, r.reason) for r in records] == [
        (numbers[0], "", desk, "mistake"),
        (numbers[1], "Bloomfield", desk, "mistake"),
    ]
    for record in records:
        assert_no_patient_details(record)


def test_an_unknown_reason_is_left_empty(client, desk):
    row = make_request()
    url = reverse("admin:contact_consultationrequest_delete", args=[row.pk])
    client.post(url, {"post": "yes", "reason": "<script>"})
    assert ErasureRecord.objects.get().reason == ""


def test_no_record_is_kept_when_the_delete_fails(client, desk, monkeypatch):
    row = make_request()

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ConsultationRequest, "delete", fail)
    with pytest.raises(RuntimeError):
        client.post(
            reverse("admin:contact_consultationrequest_delete", args=[row.pk]), {"post": "yes"}
        )
    assert not ErasureRecord.objects.exists()
    assert ConsultationRequest.objects.filter(pk=row.pk).exists()


def test_erasure_records_are_read_only_for_the_front_desk(client, desk):
    row = make_request()
    client.post(reverse("admin:contact_consultationrequest_delete", args=[row.pk]), {"post": "yes"})
    record = ErasureRecord.objects.get()
    change = reverse("admin:contact_erasurerecord_change", args=[record.pk])

    listing = client.get(ERASURES)
    assert listing.status_code == HTTPStatus.OK
    assert listing.context["action_form"] is None  # no bulk delete, nor any other action
    page = client.get(change)
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert shown(html, "erased_by_name") == "Dana Desk"
    assert 'type="submit"' not in html.split('id="content-main"')[1].split("</form>")[0]
    assert client.post(change, {"reason": "other"}).status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:contact_erasurerecord_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert client.get(reverse("admin:contact_erasurerecord_add")).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert ErasureRecord.objects.get().reason == ""


def test_a_superuser_may_delete_an_erasure_record(admin_client):
    record = ErasureRecord.objects.create(request_number=7, received_at=timezone.now())
    ErasureRecord.objects.create(request_number=8, received_at=timezone.now())
    for query, found in [("7", [record]), ("#7", []), ("", ErasureRecord.objects.all())]:
        response = admin_client.get(ERASURES, {"q": query})
        assert response.status_code == HTTPStatus.OK
        assert set(response.context["cl"].result_list) == set(found), query
    add = reverse("admin:contact_erasurerecord_add")
    assert admin_client.get(add).status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:contact_erasurerecord_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert list(ErasureRecord.objects.values_list("request_number", flat=True)) == [8]


def test_the_request_help_says_what_erasing_keeps(client, desk):
    html = client.get(make_request().get_admin_url()).content.decode()
    assert "use Delete at the bottom of this page" in html
    assert "without any patient details, under Erased requests" in html
    assert 'class="deletelink"' in html  # the Delete button is there for the front desk


def test_the_front_desk_group_may_erase_after_migrating():
    codenames = set(
        Group.objects.get(name="Front desk").permissions.values_list("codename", flat=True)
    )
    assert {"delete_consultationrequest", "delete_staffnote", "view_erasurerecord"} <= codenames
    assert not codenames & {"change_erasurerecord", "delete_erasurerecord", "add_erasurerecord"}


# --------------------------------------------------------------------------- the list


def test_the_list_shows_how_to_call_back_and_the_name_opens_the_request(client, desk):
    row = make_request(
        contact_method=ConsultationRequest.ContactMethod.TEXT,
        best_time=ConsultationRequest.BestTime.EVENING,
    )
    no_phone = make_request(name="Email Only", phone="", email="e@example.com")
    response = client.get(CHANGELIST)
    html = response.content.decode()
    header = [column["text"] for column in response.context["result_headers"]]
    assert header[1:7] == [
        "received at",
        "name",
        "phone",
        "preferred contact method",
        "best time to reach",
        "office",
    ]
    assert f'<a href="{row.get_admin_url()}">Pat Patient</a>' in html
    assert f'<a href="{no_phone.get_admin_url()}">Email Only</a>' in html
    assert '<a href="tel:+18605550199">(860) 555-0199</a>' in html
    assert '<td class="field-contact_method">Text message</td>' in html
    assert '<td class="field-best_time">Evening</td>' in html


# --------------------------------------------------------------------------- phone search


def search(client, query):
    response = client.get(CHANGELIST, {"q": query})
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


@pytest.fixture
def numbers():
    return {
        "target": make_request(phone="(860) 555-0199"),
        "same_last_seven": make_request(name="Other Area", phone="(203) 555-0199"),
        "one_digit_off": make_request(name="Near Miss", phone="(860) 555-0198"),
        "email_only": make_request(name="No Phone", phone="", email="np@example.com"),
    }


@pytest.mark.parametrize(
    "query",
    [
        "8605550199",
        "860-555-0199",
        "(860) 555-0199",
        "+1 860 555 0199",
        "+18605550199",
        "1-860-555-0199",
        "860.555.0199",
        " 860 555 0199 ",
    ],
)
def test_a_whole_number_in_any_format_finds_its_request(client, desk, numbers, query):
    assert search(client, query) == {numbers["target"]}


def test_seven_digits_find_every_number_ending_so(client, desk, numbers):
    assert search(client, "555-0199") == {numbers["target"], numbers["same_last_seven"]}
    assert search(client, "Near 555-0199") == {numbers["target"], numbers["same_last_seven"]}


def test_names_and_emails_are_still_searched(client, desk, numbers):
    assert search(client, "Near") == {numbers["one_digit_off"]}
    assert search(client, "np@example.com") == {numbers["email_only"]}


def formatted(digits, draw):
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    sep = st.sampled_from(["", " ", "-", ".", "  ", " - "])
    area_part = draw(st.sampled_from([area, f"({area})", f"({area}) "]))
    prefix = draw(st.sampled_from(["", "1", "1 ", "1-", "+1", "+1 ", "+1-", "+1 (", "+ 1 "]))
    if prefix.endswith("(") and not area_part.startswith("("):
        prefix = prefix[:-1]
    spaces = st.sampled_from(["", " ", "\t"])
    return (
        draw(spaces) + prefix + area_part + draw(sep) + exchange + draw(sep) + line + draw(spaces)
    )


@st.composite
def us_numbers(draw):
    area = draw(st.integers(200, 999))
    exchange = draw(st.integers(200, 999))
    line = draw(st.integers(0, 9999))
    digits = f"{area}{exchange}{line:04d}"
    return digits, formatted(digits, draw)


@given(number=us_numbers())
@example(number=("8605550199", "+1 860 555 0199"))
def test_search_finds_a_stored_number_typed_any_way(client, desk, number):
    digits, typed = number
    stored = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"  # as the form saves it
    row = ConsultationRequest.objects.filter(phone=stored).first() or make_request(phone=stored)
    found = search(client, typed)
    assert row in found
    assert {request.phone for request in found} == {stored}


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_digits_of_existing_requests():
    executor = MigrationExecutor(connection)
    before, after = (
        ("contact", "0006_service_and_kept_privacy_notice_versions"),
        (
            "contact",
            "0007_front_desk_erasure_and_phone_search",
        ),
    )
    leaves = executor.loader.graph.leaf_nodes()
    try:
        old_apps = executor.migrate([before]).apps
        OldRequest = old_apps.get_model("contact", "ConsultationRequest")
        now = timezone.now()
        common = {"contact_method": "phone", "best_time": "morning", "consent_at": now}
        old = OldRequest.objects.create(name="Old", phone="1 (860) 555-0199", **common)
        none = OldRequest.objects.create(name="Mail", phone="", email="m@example.com", **common)
        MigrationExecutor(connection).migrate([after])
        assert ConsultationRequest.objects.get(pk=old.pk).phone_digits == "8605550199"
        assert ConsultationRequest.objects.get(pk=none.pk).phone_digits == ""
    finally:
        MigrationExecutor(connection).migrate(leaves)


# --------------------------------------------------------------------------- times


def test_every_time_on_a_request_is_in_the_clinic_zone_and_written_one_way(client, desk):
    ClinicSettingsFactory(time_zone="America/Los_Angeles")
    received = datetime.datetime(2024, 5, 10, 14, 30, tzinfo=datetime.UTC)  # 7:30 a.m. there
    noted = datetime.datetime(2024, 5, 10, 22, 5, tzinfo=datetime.UTC)  # 3:05 p.m. there
    row = make_request(received_at=received, consent_at=received, notified_at=received)
    # The whole visit at one moment: a staff session ends after hours without a request.
    with time_machine.travel(noted, tick=False):
        StaffNote.objects.create(consultation=row, author=desk, text="Called back")
        saved = client.post(
            row.get_admin_url(),
            {
                "status": ConsultationRequest.Status.CONTACTED,
                "assigned_to": "",
                "notes-TOTAL_FORMS": "0",
                "notes-INITIAL_FORMS": "0",
                "notes-MIN_NUM_FORMS": "0",
                "notes-MAX_NUM_FORMS": "1000",
            },
            follow=True,
        )
        html = client.get(row.get_admin_url()).content.decode()
        listing = client.get(CHANGELIST).content.decode()
        history = client.get(reverse("admin:contact_consultationrequest_history", args=[row.pk]))
        export = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [row.pk]})

    title = f"Request #{row.pk} (May 10, 2024, 7:30 a.m.)"
    assert str(row) == title
    assert [re.sub(r"<[^>]+>", "", message) for message in messages_shown(saved)] == [
        f"The consultation request “{title}” was changed successfully."
    ]
    assert f"<h2>{title}</h2>" in html
    for field in ["received_at", "consent_at", "notified_at"]:
        assert shown(html, field) == "May 10, 2024, 7:30 a.m.", field
    notes = html[html.index('id="notes-group"') :]
    assert "May 10, 2024, 3:05 p.m." in notes
    assert f'<a href="{row.get_admin_url()}">May 10, 2024, 7:30 a.m.</a>' in listing
    assert "May 10, 2024, 3:05 p.m." in history.content.decode()
    line = next(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert (line["received at"], line["staff notified at"]) == (
        "2024-05-10 07:30",
        "2024-05-10 07:30",
    )


def test_a_request_names_its_time_in_the_clinic_zone_outside_a_request_too():
    ClinicSettingsFactory(time_zone="America/Los_Angeles")
    received = datetime.datetime(2024, 12, 1, 23, 0, tzinfo=datetime.UTC)
    row = make_request(received_at=received)
    assert timezone.get_current_timezone() != PACIFIC
    assert str(row) == f"Request #{row.pk} (Dec. 1, 2024, 3 p.m.)"
    note = StaffNote.objects.create(consultation=row, text="x")
    StaffNote.objects.filter(pk=note.pk).update(created_at=received)
    note.refresh_from_db()
    assert str(note) == "Note by staff at Dec. 1, 2024, 3 p.m."


def test_the_request_page_calls_back_in_one_tap_and_names_staff_by_name(client, desk):
    request = make_request(phone="(860) 555-0199")
    staff_user("casey", first_name="Casey", last_name="Caller")
    html = client.get(reverse("admin:contact_consultationrequest_change", args=[request.pk]))
    html = html.content.decode()
    assert 'href="tel:+18605550199"' in html
    # The "assigned to" choices read as notes and erasure records do: full names.
    assert ">Casey Caller</option>" in html
