"""The insight dashboard: its figures are right for a generated set of requests and views
whose answers this test works out on its own; who may open it; status changes recorded.

The expected figures are computed here from the generated rows in plain Python, never by
calling contact/insight.py, and compared with the dashboard's CSV downloads and tables.
"""

import collections
import csv
import datetime
import io
import math
import random
import statistics
import zoneinfo
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from clinic_site.models import PageViews
from contact.models import ConsultationRequest, StatusChange

from .factories import ArticleFactory, OfficeFactory, PromotionFactory, ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher", "clinic")]

User = get_user_model()
Status = ConsultationRequest.Status
DASHBOARD = "/admin/insight/"
ZONE = zoneinfo.ZoneInfo("America/New_York")  # the clinic's zone (ClinicSettings' default)
START, END = datetime.date(2026, 9, 7), datetime.date(2026, 10, 4)  # Monday to Sunday
PERIOD = f"start={START}&end={END}"
WEEKS = [START + datetime.timedelta(weeks=n) for n in range(4)]


def member(client, group, **names):
    user = User.objects.create_user(group.lower().replace(" ", ""), is_staff=True, **names)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def at(day: datetime.date, hour: float) -> datetime.datetime:
    """A moment on the clinic's clock."""
    return datetime.datetime.combine(day, datetime.time(), ZONE) + datetime.timedelta(hours=hour)


def download(client, key) -> list[dict]:
    response = client.get(f"{DASHBOARD}?{PERIOD}&download={key}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    assert f"{START}-to-{END}" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def world():
    """Offices, services, pages, staff, and 150 requests with views around them, at random
    (seeded) but known: each generated fact is kept in ``facts`` as the answers' source."""
    rng = random.Random(13)
    offices = [OfficeFactory(name=name) for name in ("Avon", "Bloomfield", "Newington")]
    services = [ServiceFactory(title=title) for title in ("Dry needling", "Fitness memberships")]
    articles = [ArticleFactory(title=f"Article {n}") for n in range(3)]
    offer = PromotionFactory(title="First responders")
    pages = {
        **{a.get_absolute_url(): f"Article {n} (article)" for n, a in enumerate(articles)},
        **{s.get_absolute_url(): f"{s.title} (service)" for s in services},
        **{o.get_absolute_url(): f"{o.name} (office)" for o in offices},
        offer.get_absolute_url(): "First responders (offer)",
        "/": "Home page",
        "/consultation/": "Consultation page",
    }
    ana = User.objects.create_user("ana", first_name="Ana", last_name="Ruiz", is_staff=True)
    ben = User.objects.create_user("ben", is_staff=True)  # no name: shown by username
    facts = []
    for number in range(150):
        day = START + datetime.timedelta(days=rng.randrange(28))
        received = at(day, rng.uniform(0, 24))
        status = rng.choice([Status.NEW, Status.CONTACTED, Status.SCHEDULED, Status.NOT_A_FIT])
        fact = {
            "received": received,
            "office": rng.choice([*offices, None]),
            "service": rng.choice([*services, None]),
            "source": rng.choice([*pages, ""]),
            "status": Status.SPAM if number % 25 == 0 else status,
            "changes": [],
        }
        if fact["status"] in (Status.CONTACTED, Status.SCHEDULED, Status.NOT_A_FIT):
            first_hours = rng.uniform(0.2, 60)
            person = rng.choice([ana, ben])
            fact["changes"].append((first_hours, Status.CONTACTED, person))
            if fact["status"] != Status.CONTACTED:
                fact["changes"].append((first_hours + 5, fact["status"], rng.choice([ana, ben])))
            if fact["status"] == Status.NOT_A_FIT and rng.random() < 0.5:
                # Scheduled once, then not a fit: it did reach "Scheduled".
                fact["changes"].insert(1, (first_hours + 1, Status.SCHEDULED, ana))
        facts.append(fact)
    # Just outside the period on the clinic's clock (inside it in UTC, the first one).
    outside = [at(START, -0.5), at(END + datetime.timedelta(days=1), 0.25)]
    for received in outside:
        facts.append(
            {
                "received": received,
                "office": offices[0],
                "service": None,
                "source": "/",
                "status": Status.NEW,
                "changes": [],
                "outside": True,
            }
        )
    for fact in facts:
        row = ConsultationRequest.objects.create(
            name="Pat Patient",
            phone="(860) 555-0100",
            contact_method=ConsultationRequest.ContactMethod.PHONE,
            best_time=ConsultationRequest.BestTime.MORNING,
            consent_at=fact["received"],
            received_at=fact["received"],
            office=fact["office"],
            service=fact["service"],
            source_path=fact["source"],
            status=fact["status"],
        )
        for hours, status, person in fact["changes"]:
            StatusChange.objects.create(
                consultation=row,
                status=status,
                changed_by=person,
                changed_at=fact["received"] + datetime.timedelta(hours=hours),
            )
    views = collections.Counter()
    for path in pages:
        for offset in range(-3, 31):  # three days before the period, two after
            day = START + datetime.timedelta(days=offset)
            count = rng.randrange(0, 50)
            PageViews.objects.create(day=day, path=path, views=count)
            if START <= day <= END:
                views[path] += count
    counted = [f for f in facts if f["status"] != Status.SPAM and not f.get("outside")]
    return {"facts": counted, "pages": pages, "views": views, "ana": ana, "ben": ben}


def week_of(moment: datetime.datetime) -> str:
    day = moment.astimezone(ZONE).date()
    return str(day - datetime.timedelta(days=day.weekday()))


def test_requests_per_week_by_office_service_and_source_page(client, world):
    member(client, "Front desk")
    expected = {
        "offices": collections.Counter(
            (week_of(f["received"]), f["office"].name if f["office"] else "No preference")
            for f in world["facts"]
        ),
        "services": collections.Counter(
            (week_of(f["received"]), f["service"].title if f["service"] else "Not chosen")
            for f in world["facts"]
        ),
        "sources": collections.Counter(
            (week_of(f["received"]), world["pages"].get(f["source"], "Not recorded"))
            for f in world["facts"]
        ),
    }
    for key, column in (("offices", "office"), ("services", "service"), ("sources", "source")):
        rows = download(client, key)
        found = {(row["week starting"], row[column]): int(row["requests"]) for row in rows}
        assert {k: v for k, v in found.items() if v} == dict(expected[key]), key
        assert {row["week starting"] for row in rows} == {str(week) for week in WEEKS}
    assert sum(expected["offices"].values()) == len(world["facts"]) == 144  # 150 less 6 spam


def test_views_and_requests_per_100_views_for_each_page(client, world):
    member(client, "Front desk")
    sent = collections.Counter(f["source"] for f in world["facts"])
    rows = {row["path"]: row for row in download(client, "pages")}
    content = [path for path in world["pages"] if path not in ("/", "/consultation/")]
    assert sorted(rows) == sorted(content)
    for path in content:
        views, requests = world["views"][path], sent[path]
        assert int(rows[path]["views"]) == views, path
        assert int(rows[path]["requests"]) == requests, path
        assert float(rows[path]["requests per 100 views"]) == round(100 * requests / views, 1)
    ordered = [row["path"] for row in download(client, "pages")]
    assert [world["views"][path] for path in ordered] == sorted(
        (world["views"][path] for path in ordered), reverse=True
    )


def test_share_that_reached_scheduled(client, world):
    member(client, "Front desk")
    reached = [
        f
        for f in world["facts"]
        if f["status"] == Status.SCHEDULED
        or any(s == Status.SCHEDULED for _h, s, _p in f["changes"])
    ]
    [row] = download(client, "scheduled")
    assert int(row["requests"]) == len(world["facts"])
    assert int(row["reached scheduled"]) == len(reached)
    assert float(row["percent"]) == round(100 * len(reached) / len(world["facts"]), 1)
    html = client.get(f"{DASHBOARD}?{PERIOD}").content.decode()
    assert f"{round(100 * len(reached) / len(world['facts']), 1)}%" in html


def nearest_rank(values, share):
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def test_time_to_first_contact_per_person(client, world):
    member(client, "Front desk")
    hours = collections.defaultdict(list)
    for fact in world["facts"]:
        if fact["changes"]:
            first_hours, _status, person = fact["changes"][0]
            hours[person.get_full_name() or person.username].append(first_hours)
    everyone = [value for values in hours.values() for value in values]
    rows = {row["person"]: row for row in download(client, "first-contact")}
    assert set(rows) == {"Ana Ruiz", "ben", "Everyone"}
    for person, values in [*hours.items(), ("Everyone", everyone)]:
        row = rows[person]
        assert int(row["requests"]) == len(values)
        assert float(row["median hours"]) == pytest.approx(statistics.median(values), abs=0.051)
        assert float(row["90th percentile hours"]) == pytest.approx(
            nearest_rank(values, 0.9), abs=0.051
        )


def test_what_waits_now(client, world):
    member(client, "Front desk")
    rows = {row["figure"]: int(row["requests"]) for row in download(client, "waiting")}
    requests = ConsultationRequest.objects.all()
    assert rows["Needs review"] == requests.filter(status=Status.NEEDS_REVIEW).count() == 0
    # Every "New" request is weeks old: all overdue; spam never counts.
    new = sum(1 for f in world["facts"] if f["status"] == Status.NEW) + 2  # + the two outside
    assert rows["Overdue (waiting more than one business day)"] == new
    assert rows["Email failed"] == 0


def test_the_page_shows_each_figure_as_a_chart_and_a_table(client, world):
    member(client, "Front desk")
    response = client.get(f"{DASHBOARD}?{PERIOD}")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for key in ("offices", "services", "sources", "pages", "first-contact"):
        section = html.split(f'id="{key}"', 1)[1].split('<div class="module"', 1)[0]
        assert "<svg" in section and 'role="img"' in section and "<table>" in section, key
        assert f"download={key}" in section
    assert "<script" not in html.split('id="content-main"', 1)[1]
    office_table = html.split('id="offices"', 1)[1].split("</table>", 1)[0]
    avon = [f for f in world["facts"] if f["office"] and f["office"].name == "Avon"]
    first_week = sum(1 for f in avon if week_of(f["received"]) == str(WEEKS[0]))
    assert '<th scope="col">Avon</th>' in office_table
    assert f'<td class="number">{first_week}</td>' in office_table


def test_default_period_is_the_last_12_weeks(client, clinic):
    member(client, "Front desk")
    response = client.get(DASHBOARD)
    assert response.status_code == HTTPStatus.OK
    start, end = response.context["start"], response.context["end"]
    assert end == datetime.datetime.now(ZONE).date()
    assert start.weekday() == 0 and (end - start).days // 7 == 11
    assert len(response.context["weekly"][0]["weeks"]) == 12


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-10-04&end=2026-09-07", "The start date is after the end date."),
        ("start=2020-01-01&end=2026-01-01", "Choose a period of three years at most."),
        ("start=yesterday&end=2026-13-45", "Enter a valid date."),
        ("start=&end=", "This field is required."),
    ],
)
def test_a_bad_period_is_explained_and_the_default_shown(client, query, message):
    member(client, "Front desk")
    response = client.get(f"{DASHBOARD}?{query}")
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    assert response.context["end"] == datetime.datetime.now(ZONE).date()


def test_an_unknown_download_shows_the_page(client):
    member(client, "Front desk")
    response = client.get(f"{DASHBOARD}?download=everything")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("group", "allowed"), [("Front desk", True), ("Managers", True), ("Content editors", False)]
)
def test_front_desk_and_managers_may_open_it_content_editors_not(client, group, allowed):
    member(client, group)
    response = client.get(DASHBOARD)
    assert response.status_code == (HTTPStatus.OK if allowed else HTTPStatus.FORBIDDEN)
    home = client.get(reverse("admin:index")).content.decode()
    assert (f'href="{DASHBOARD}"' in home) is allowed


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("admin:login"))


def test_csv_cells_a_spreadsheet_would_run_are_quoted(client, world):
    member(client, "Front desk")
    ConsultationRequest.objects.filter(pk=ConsultationRequest.objects.first().pk).update(
        source_path="=HYPERLINK(1)", received_at=at(START, 12)
    )
    sources = [row["source"] for row in download(client, "sources")]
    assert "'=HYPERLINK(1)" in sources and "=HYPERLINK(1)" not in sources


# --------------------------------------------------------------------------- recording


def test_a_status_change_in_admin_is_recorded_with_who_and_when(client, world):
    user = member(client, "Front desk", first_name="Dee")
    row = ConsultationRequest.objects.filter(status=Status.NEW).first()
    url = reverse("admin:contact_consultationrequest_changelist")
    before = StatusChange.objects.count()
    response = client.post(
        url, {"action": "mark_scheduled", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == HTTPStatus.OK
    change = StatusChange.objects.latest("pk")
    assert (change.consultation_id, change.status, change.changed_by) == (
        row.pk,
        Status.SCHEDULED,
        user,
    )
    assert StatusChange.objects.count() == before + 1
    # Marking it scheduled again changes nothing, so records nothing.
    client.post(url, {"action": "mark_scheduled", "_selected_action": [row.pk]})
    assert StatusChange.objects.count() == before + 1


def test_a_status_changed_on_the_request_page_is_recorded(client, world):
    user = member(client, "Front desk")
    row = ConsultationRequest.objects.filter(status=Status.NEW).first()
    form = {
        "status": Status.CONTACTED,
        "assigned_to": "",
        **{
            f"notes-{name}": value
            for name, value in [
                ("TOTAL_FORMS", "0"),
                ("INITIAL_FORMS", "0"),
                ("MIN_NUM_FORMS", "0"),
                ("MAX_NUM_FORMS", "1000"),
            ]
        },
    }
    response = client.post(row.get_admin_url(), form)
    assert response.status_code == HTTPStatus.FOUND
    change = StatusChange.objects.get(consultation=row)
    assert (change.status, change.changed_by) == (Status.CONTACTED, user)
    # Saved again with the same status (a note, say): no second change.
    client.post(row.get_admin_url(), form)
    assert StatusChange.objects.filter(consultation=row).count() == 1


def test_the_request_page_lists_its_status_changes(client, world):
    member(client, "Front desk")
    row = ConsultationRequest.objects.filter(status=Status.SCHEDULED).first()
    html = client.get(row.get_admin_url()).content.decode()
    history = html.split("field-status_history", 1)[1].split('class="form-row', 1)[0]
    names = [
        change.changed_by.get_full_name() or change.changed_by.username
        for change in row.status_changes.all()
    ]
    assert names and all(name in history for name in names)
    assert "Contacted: " in history and "Scheduled: " in history
