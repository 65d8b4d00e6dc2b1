"""What a content editor meets in admin, as a member of the "Content editors" group.

Offers whose words name another amount than the discount, links typed without https:// or
to pages that do not exist, times written as people write them, one holiday for several
offices, half days, past closures, a picture lost to another field's error, and the
scheduled articles' status. Each through real admin requests, and the public page after.
"""

import datetime
import json
import re
import zoneinfo
from http import HTTPStatus

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape

from contact.models import PrivacyNotice
from pages.admin import PICTURE_NOT_KEPT
from pages.forms import format_time, parse_time
from pages.links import fix_links
from pages.models import Article, Clinician, Closure, Office, Page, Promotion, Service
from pages.schedule import office_schedule

from .factories import (
    ArticleFactory,
    ClinicianFactory,
    ClinicSettingsFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PageFactory,
    PromotionFactory,
    ServiceFactory,
    uploaded_image,
)
from .test_admin import (
    admin_url,
    article_form_data,
    assert_form_error,
    inline_management,
    log_in,
    office_form_data,
    promotion_form_data,
    text_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY = datetime.date(2026, 11, 16)


@pytest.fixture
def editor(client):
    return log_in(client, "Content editors")


def clinic_time(day, hour, minute=0):
    """A moment in the clinic's zone, as UTC for time_machine (2026-11-16 is a Monday)."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=NY)


# --------------------------------------------------------------------------- 6. offers


def promotion_data(promotion, **overrides):
    return promotion_form_data(
        **{
            "title": promotion.title,
            "slug": promotion.slug,
            "description": promotion.description,
            "eligibility": promotion.eligibility,
            "amount": str(promotion.amount),
            "how_to_claim": promotion.how_to_claim,
            "fine_print": promotion.fine_print,
            "show_as_banner": "on",
            **overrides,
        }
    )


@pytest.fixture
def offer():
    return PromotionFactory(
        title="First responders save $50",
        description="Every first responder gets $50 off a membership.",
        how_to_claim="Bring your ID and we take the $50 off.",
        amount="50.00",
        show_as_banner=True,
    )


def test_changing_only_the_amount_is_refused_where_the_text_names_the_old_one(editor, offer):
    response = editor.post(
        admin_url(Promotion, "change", offer.pk), promotion_data(offer, amount="75")
    )
    assert_form_error(
        response, "The title says $50 but the discount is $75.00: change one of them."
    )
    page = text_of(response)
    assert escape("The description says $50 but the discount is $75.00") in page
    assert escape("'How to claim' says $50 but the discount is $75.00") in page
    offer.refresh_from_db()
    assert offer.amount == 50


def test_text_naming_another_amount_than_the_discount_is_refused(editor, offer):
    response = editor.post(
        admin_url(Promotion, "change", offer.pk),
        promotion_data(offer, title="First responders save $75"),
    )
    assert_form_error(
        response, "The title says $75 but the discount is $50.00: change one of them."
    )
    offer.refresh_from_db()
    assert offer.title == "First responders save $50"


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("title", "The title"),
        ("description", "The description"),
        ("eligibility", "'Who qualifies'"),
        ("how_to_claim", "'How to claim'"),
        ("fine_print", "The fine print"),
    ],
)
@pytest.mark.parametrize("written", ["$50", "$50.00", "50 dollars", "USD 50", "$ 50"])
def test_every_text_of_an_offer_is_checked_in_every_way_of_writing_money(
    editor, field, label, written
):
    texts = {"title": "Teachers save", field: f"Teachers get {written} off"}
    data = promotion_form_data(amount="75", **texts)
    response = editor.post(admin_url(Promotion, "add"), data)
    assert_form_error(response, f"{label} says {written} but the discount is $75.00")
    assert not Promotion.objects.exists()


def test_an_offer_whose_words_match_the_amount_is_saved_and_shown(
    editor, client, clinic, offer, commit
):
    with commit():
        response = editor.post(
            admin_url(Promotion, "change", offer.pk),
            promotion_data(
                offer,
                amount="75",
                title="First responders save $75",
                description="Every first responder gets 75 dollars off a membership.",
                how_to_claim="Bring your ID and we take the $75.00 off. Call 860-555-0100.",
            ),
        )
    assert response.status_code == HTTPStatus.FOUND
    home = text_of(client.get("/"))
    assert "$75.00 off" in home and "$50" not in home
    detail = text_of(client.get(offer.get_absolute_url()))
    assert "First responders save $75" in detail and "$50" not in detail


# --------------------------------------------------------------------------- 7. links


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("www.example.com", "https://www.example.com"),
        ("WWW.Example.org/page?a=1&b=2", "https://WWW.Example.org/page?a=1&amp;b=2"),
        ("ctpt.org/find-a-therapist", "https://ctpt.org/find-a-therapist"),
        ("hello@example.com", "mailto:hello@example.com"),
        ("https://www.example.com", "https://www.example.com"),
        ("mailto:hello@example.com", "mailto:hello@example.com"),
        ("tel:+18605550100", "tel:+18605550100"),
        ("#how-it-works", "#how-it-works"),
        ("/team/", "/team/"),
    ],
)
def test_a_link_without_its_scheme_gets_it(typed, saved):
    html = f'<p><a href="{escape(typed)}">link</a></p>'
    assert f'href="{saved}"' in fix_links(html)


def test_a_link_typed_as_www_is_saved_as_a_link_to_that_site(editor, client):
    body = '<p>See <a href="www.example.com/guide">the guide</a>.</p>'
    response = editor.post(admin_url(Article, "add"), article_form_data(body=body))
    assert response.status_code == HTTPStatus.FOUND
    article = Article.objects.get()
    assert 'href="https://www.example.com/guide"' in article.body
    assert 'href="https://www.example.com/guide"' in text_of(client.get(article.get_absolute_url()))


@pytest.mark.parametrize(
    ("href", "message"),
    [
        ("/articles/no-such-article/", "leads to an article that does not exist"),
        ("/team/nobody/", "leads to a team member that does not exist"),
        ("/services/no-such-service/", "leads to a service that does not exist"),
        ("/no-such-page/", "leads to a page that does not exist"),
        ("/articles/a/b/c/", "leads to no page on our site"),
        ("{site}/offices/nowhere/", "leads to an office that does not exist"),
        ("/admin/pages/article/", "leads to the staff admin, which patients cannot open"),
        ("contact-us", "is not a full web address"),
    ],
)
def test_a_link_to_one_of_our_pages_that_does_not_exist_is_refused(editor, href, message):
    href = href.format(site=settings.SITE_URL)
    body = f'<p>Read <a href="{href}">this</a>.</p>'
    response = editor.post(admin_url(Article, "add"), article_form_data(body=body))
    assert_form_error(response, f"The link “{href}” {message}")
    assert "copy its address from the browser" in text_of(response)
    assert not Article.objects.exists()


def test_links_to_live_pages_of_ours_are_kept_as_they_are(editor):
    ArticleFactory(slug="knee-pain")
    ClinicianFactory(slug="sam")
    body = (
        '<p><a href="/articles/knee-pain/">one</a> <a href="/team/sam/">two</a> '
        f'<a href="{settings.SITE_URL}/offices/">three</a> <a href="/team">four</a></p>'
    )
    response = editor.post(
        admin_url(Article, "add"), article_form_data(slug="new-one", body=body), follow=True
    )
    assert response.status_code == HTTPStatus.OK
    assert "Please correct" not in text_of(response)
    assert Article.objects.get(slug="new-one").body.count("<a ") == 4


def test_a_link_to_a_draft_is_saved_with_a_warning(editor):
    ArticleFactory(slug="coming-soon", title="Coming soon", status=Article.Status.DRAFT)
    body = '<p><a href="/articles/coming-soon/">soon</a></p>'
    response = editor.post(admin_url(Article, "add"), article_form_data(body=body), follow=True)
    assert Article.objects.filter(slug="knee-pain-after-running").exists()
    assert "leads to “Coming soon”, which patients cannot see yet" in text_of(response)


@pytest.mark.parametrize(
    ("factory", "field"),
    [(ServiceFactory, "body"), (PageFactory, "body"), (ClinicianFactory, "bio")],
    ids=["service", "page", "team member"],
)
def test_every_rich_text_body_checks_its_links(factory, field):
    row = factory(**{field: '<p><a href="/articles/gone/">gone</a></p>'})
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert "leads to an article that does not exist" in str(refused.value.message_dict[field])
    setattr(row, field, '<p><a href="www.example.org">x</a></p>')
    row.full_clean()
    assert getattr(row, field) == '<p><a href="https://www.example.org">x</a></p>'


def test_the_privacy_notice_checks_its_links_too():
    notice = PrivacyNotice(title="Privacy notice", body='<p><a href="/nowhere/here/">x</a></p>')
    with pytest.raises(ValidationError) as refused:
        notice.full_clean()
    assert "leads to no page on our site" in str(refused.value.message_dict["body"])


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        (Article, ArticleFactory),
        (Service, ServiceFactory),
        (Page, PageFactory),
        (Clinician, ClinicianFactory),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_the_editors_toolbar_stylesheet_is_on_every_rich_text_form(editor, model, factory):
    page = text_of(editor.get(admin_url(model, "change", factory().pk)))
    assert '<link href="/static/css/admin-editor.css"' in page
    css = (settings.BASE_DIR / "static" / "css" / "admin-editor.css").read_text()
    rule = re.search(r"\.prose-menubar[^{]*\{([^}]*)\}", css)
    assert rule and "position: sticky" in rule.group(1) and "top: 0" in rule.group(1)
    # The admin's form rows hide their overflow, which would stop the toolbar sticking.
    assert re.search(r"\.form-row:has\(\.prose-editor\)\s*\{\s*overflow: visible", css)


# --------------------------------------------------------------------------- 8. hours


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("3:00 PM", datetime.time(15)),
        ("3pm", datetime.time(15)),
        ("3 pm", datetime.time(15)),
        ("3 PM", datetime.time(15)),
        ("3:30p.m.", datetime.time(15, 30)),
        ("3:30 p.m.", datetime.time(15, 30)),
        ("9am", datetime.time(9)),
        ("9:15 AM", datetime.time(9, 15)),
        ("12pm", datetime.time(12)),
        ("12:30pm", datetime.time(12, 30)),
        ("12am", datetime.time(0)),
        ("noon", datetime.time(12)),
        ("midnight", datetime.time(0)),
        ("15:00", datetime.time(15)),
        ("08:00", datetime.time(8)),
        ("08:00:00", datetime.time(8)),
        ("9", datetime.time(9)),
        ("17", datetime.time(17)),
        (" 7:45\u202fPM ", datetime.time(19, 45)),
    ],
)
def test_times_are_read_the_way_people_write_them(typed, meant):
    assert parse_time(typed) == meant


@pytest.mark.parametrize(
    "typed", ["13pm", "0am", "25:00", "9:60", "nine", "3:00 XM", "3:5", "9-5", "", "3pm-5pm"]
)
def test_anything_else_is_not_a_time(typed):
    assert parse_time(typed) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (datetime.time(15), "3:00 PM"),
        (datetime.time(9, 5), "9:05 AM"),
        (datetime.time(12), "12:00 PM"),
        (datetime.time(0), "12:00 AM"),
    ],
)
def test_times_are_shown_the_way_people_write_them(value, shown):
    assert format_time(value) == shown


def office_with_hours_data(opens, closes, **overrides):
    return office_form_data(
        **inline_management("hours", total=1),
        **{"hours-0-weekday": "0", "hours-0-opens": opens, "hours-0-closes": closes},
        **overrides,
    )


def test_hours_typed_as_people_write_them_are_saved_and_shown_so(editor):
    response = editor.post(admin_url(Office, "add"), office_with_hours_data("9am", "5:30 pm"))
    assert response.status_code == HTTPStatus.FOUND
    office = Office.objects.get()
    assert list(office.hours.values_list("opens", "closes")) == [
        (datetime.time(9), datetime.time(17, 30))
    ]
    page = text_of(editor.get(admin_url(Office, "change", office.pk)))
    assert 'name="hours-0-opens" value="9:00 AM"' in page
    assert 'name="hours-0-closes" value="5:30 PM"' in page
    # A plain text box: no clock pop-up, no "Now" link (the admin adds them to vTimeField).
    assert "vTimeField" not in page


def test_a_time_that_cannot_be_read_says_how_to_write_one(editor):
    response = editor.post(admin_url(Office, "add"), office_with_hours_data("9am", "half five"))
    assert_form_error(response, "“half five” is not a time we can read.")
    assert "Write a time like 9am, 3:30 PM or 15:00." in text_of(response)
    assert 'value="half five"' in text_of(response)  # kept as typed, to be corrected
    assert not Office.objects.exists()


# --------------------------------------------------------------------------- 8. closures


def add_closure_data(chosen, **overrides):
    return {
        "offices": [office.pk for office in chosen],
        "date": "2030-12-24",
        "reason": "Christmas Eve",
        "kind": "whole_day",
        "closes_at": "",
        **overrides,
    }


def test_a_holiday_is_added_once_for_every_office(editor, clinic):
    offices = [OfficeFactory(name=name) for name in ("Avon", "Bloomfield", "Newington")]
    ClosureFactory(office=offices[2], date=datetime.date(2030, 12, 24), reason="Staff party")
    office_list = text_of(editor.get(admin_url(Office, "changelist")))
    url = "/admin/pages/office/add-closure/"
    assert f'href="{url}"' in office_list and "Add a holiday or half day" in office_list

    form = text_of(editor.get(url))
    for office in offices:  # every office is ticked to begin with
        assert re.search(rf'<input[^>]*value="{office.pk}"[^>]*checked', form)

    response = editor.post(url, add_closure_data(offices), follow=True)
    assert response.status_code == HTTPStatus.OK
    page = text_of(response)
    assert (
        "Added the closure on Tuesday, December 24, 2030 (Christmas Eve) to Avon and Bloomfield."
        in page
    )
    assert "Newington (Staff party) already had a closure on Tuesday, December 24, 2030" in page
    closures = Closure.objects.filter(date=datetime.date(2030, 12, 24))
    assert sorted(closures.values_list("office__name", "reason")) == [
        ("Avon", "Christmas Eve"),
        ("Bloomfield", "Christmas Eve"),
        ("Newington", "Staff party"),
    ]
    assert "Christmas Eve" in text_of(editor.get(offices[0].get_absolute_url()))


def test_the_office_list_action_adds_a_half_day_to_the_ticked_offices(editor):
    avon, bloomfield, newington = (
        OfficeFactory(name=n) for n in ("Avon", "Bloomfield", "Newington")
    )
    response = editor.post(
        admin_url(Office, "changelist"),
        {"action": "add_closure", "_selected_action": [avon.pk, newington.pk], "index": "0"},
    )
    assert response.status_code == HTTPStatus.FOUND
    form = text_of(editor.get(response["Location"]))
    assert re.search(rf'<input[^>]*value="{avon.pk}"[^>]*checked', form)
    assert not re.search(rf'<input[^>]*value="{bloomfield.pk}"[^>]*checked', form)

    data = add_closure_data([avon, newington], kind="early", closes_at="1pm")
    response = editor.post(response["Location"].split("?")[0], data, follow=True)
    assert "(Christmas Eve, closes at 1:00 PM) to Avon and Newington." in text_of(response)
    assert sorted(Closure.objects.values_list("office__name", "closes_at")) == [
        ("Avon", datetime.time(13)),
        ("Newington", datetime.time(13)),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "early", "closes_at": ""}, "Say when the offices close that day, e.g. 1pm."),
        ({"kind": "early", "closes_at": "after lunch"}, "is not a time we can read"),
        ({"date": "2020-01-01"}, "This day is already past. Choose today or a later day."),
        ({"offices": []}, "Tick at least one office."),
    ],
)
def test_the_holiday_form_says_what_to_fix(editor, overrides, message):
    office = OfficeFactory()
    response = editor.post(
        "/admin/pages/office/add-closure/", add_closure_data([office], **overrides)
    )
    assert response.status_code == HTTPStatus.OK
    assert escape(message) in text_of(response)
    assert not Closure.objects.exists()


def test_front_desk_cannot_open_the_holiday_form(client):
    front_desk = log_in(client, "Front desk")
    assert front_desk.get("/admin/pages/office/add-closure/").status_code == HTTPStatus.FORBIDDEN


def test_past_closures_leave_the_office_form_and_stay_in_the_database(editor):
    office = OfficeFactory()
    today = timezone.localdate()
    ClosureFactory(office=office, date=today - datetime.timedelta(days=30), reason="Old holiday")
    ClosureFactory(office=office, date=today, reason="Today's closure")
    ClosureFactory(office=office, date=today + datetime.timedelta(days=9), reason="Coming one")
    page = text_of(editor.get(admin_url(Office, "change", office.pk)))
    assert "Coming one" in page and "Today&#x27;s closure" in page
    assert "Old holiday" not in page
    assert 'name="closures-TOTAL_FORMS" value="2"' in page


def test_a_half_day_is_entered_on_the_office_form(editor):
    data = office_form_data(
        **inline_management("closures", total=1),
        **{
            "closures-0-date": "2030-12-24",
            "closures-0-reason": "Christmas Eve",
            "closures-0-closes_at": "1pm",
        },
    )
    response = editor.post(admin_url(Office, "add"), data)
    assert response.status_code == HTTPStatus.FOUND
    closure = Closure.objects.get()
    assert (closure.closes_at, closure.is_whole_day) == (datetime.time(13), False)
    page = text_of(editor.get(admin_url(Office, "change", closure.office_id)))
    assert 'name="closures-0-closes_at" value="1:00 PM"' in page


def test_a_new_closure_in_the_past_is_refused_on_the_office_form(editor):
    data = office_form_data(
        **inline_management("closures", total=1),
        **{"closures-0-date": "2020-12-24", "closures-0-reason": "Christmas Eve"},
    )
    response = editor.post(admin_url(Office, "add"), data)
    assert_form_error(response, "This day is already past. Choose today or a later day.")
    assert not Closure.objects.exists()


def test_a_holiday_added_to_several_offices_is_in_each_offices_history(editor):
    avon, newington = OfficeFactory(name="Avon"), OfficeFactory(name="Newington")
    editor.post("/admin/pages/office/add-closure/", add_closure_data([avon, newington]))
    history = text_of(editor.get(admin_url(Office, "history", avon.pk)))
    assert "Added a closure on Tuesday, December 24, 2030: Christmas Eve." in history


@pytest.fixture
def half_day_office(clinic):
    office = OfficeFactory(slug="avon")
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(12))
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(13), closes=datetime.time(18))
    ClosureFactory(office=office, date=MONDAY, reason="Christmas Eve", closes_at=datetime.time(15))
    return office


@pytest.mark.parametrize(
    ("hour", "minute", "is_open", "status"),
    [
        (7, 0, False, "Closed now · opens at 8 AM, closes early at 3 PM · Christmas Eve"),
        (9, 0, True, "Open now · until 12 PM"),
        (12, 30, False, "Closed now · opens at 1 PM, closes early at 3 PM · Christmas Eve"),
        (14, 59, True, "Open now · closes early at 3 PM · Christmas Eve"),
        (15, 0, False, "Closed now · closed early today · Christmas Eve"),
        (17, 0, False, "Closed now · closed early today · Christmas Eve"),
    ],
)
def test_open_now_respects_an_early_closing(half_day_office, hour, minute, is_open, status):
    now = clinic_time(16, hour, minute)
    office = Office.objects.with_schedule(MONDAY).get(pk=half_day_office.pk)
    schedule = office_schedule(office, now)
    assert (schedule.is_open_now, schedule.status_text) == (is_open, status)
    expected_change = {7: 8, 9: 12, 12: 13, 14: 15}.get(hour)
    assert (schedule.next_change.hour if schedule.next_change else None) == expected_change


def test_a_closure_before_the_office_opens_closes_it_all_day(half_day_office):
    Closure.objects.update(closes_at=datetime.time(7))
    office = Office.objects.with_schedule(MONDAY).get(pk=half_day_office.pk)
    schedule = office_schedule(office, clinic_time(16, 9))
    assert (schedule.is_open_now, schedule.status_text) == (False, "Closed today · Christmas Eve")


def hours_row(html, weekday):
    match = re.search(
        rf'<th scope="row">{weekday}(?: \(today\))?</th>\s*<td>\s*(.*?)\s*</td>', html, re.S
    )
    return " ".join(match.group(1).split())


def test_the_office_page_shows_the_half_day(client, half_day_office):
    with time_machine.travel(clinic_time(16, 14), tick=False):
        html = text_of(client.get(half_day_office.get_absolute_url()))
    assert "Open now · closes early at 3 PM · Christmas Eve" in html
    assert (
        hours_row(html, "Monday")
        == "8:00 AM – 12:00 PM, 1:00 PM – 3:00 PM · closes early · Christmas Eve"
    )
    assert "Monday, November 16</time>: Christmas Eve (open until 3:00 PM)" in html
    # Search engines are told the same: open that morning, until the early closing.
    data = [
        json.loads(s)
        for s in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]
    specials = [
        spec
        for node in data
        for spec in (node.get("openingHoursSpecification") or [])
        if spec.get("validFrom") == "2026-11-16"
    ]
    assert [(s["opens"], s["closes"]) for s in specials] == [("08:00", "15:00")]


def test_a_whole_day_closure_still_closes_the_whole_day(client, half_day_office):
    Closure.objects.update(closes_at=None)
    with time_machine.travel(clinic_time(16, 9), tick=False):
        html = text_of(client.get(half_day_office.get_absolute_url()))
    assert "Closed today · Christmas Eve" in html
    assert hours_row(html, "Monday") == "Closed · Christmas Eve"
    assert "Monday, November 16</time>: Christmas Eve</li>" in html


def test_closures_in_another_year_show_their_year(client, clinic):
    office = OfficeFactory()
    ClosureFactory(office=office, date=datetime.date(2026, 11, 26), reason="Thanksgiving")
    ClosureFactory(office=office, date=datetime.date(2027, 11, 25), reason="Thanksgiving again")
    with time_machine.travel(clinic_time(16, 9), tick=False):
        html = text_of(client.get(office.get_absolute_url()))
    assert "Thursday, November 26</time>: Thanksgiving</li>" in html
    assert "Thursday, November 25, 2027</time>: Thanksgiving again" in html


# --------------------------------------------------------------------------- 9. picture, status


def test_a_picture_chosen_before_another_error_must_be_chosen_again(editor):
    data = article_form_data(author="", image=uploaded_image(), image_alt="Knee brace")
    response = editor.post(admin_url(Article, "add"), data)
    assert_form_error(response, "Choose the author, or type a guest author.")
    assert escape(PICTURE_NOT_KEPT) in text_of(response)
    assert not Article.objects.exists()


def test_no_picture_note_without_a_picture_or_without_an_error(editor):
    response = editor.post(admin_url(Article, "add"), article_form_data(author=""))
    assert_form_error(response, "Choose the author, or type a guest author.")
    assert escape(PICTURE_NOT_KEPT) not in text_of(response)
    data = article_form_data(image=uploaded_image(), image_alt="Knee brace")
    response = editor.post(admin_url(Article, "add"), data, follow=True)
    assert escape(PICTURE_NOT_KEPT) not in text_of(response)
    assert Article.objects.get().image


def test_an_office_photo_chosen_before_an_hours_error_must_be_chosen_again(editor):
    data = office_with_hours_data("5pm", "9am", image=uploaded_image(), image_alt="Front desk")
    response = editor.post(admin_url(Office, "add"), data)
    assert_form_error(response, "The closing time must be later than the opening time.")
    assert escape(PICTURE_NOT_KEPT) in text_of(response)


def test_a_scheduled_article_shows_as_scheduled_in_the_list(editor):
    ClinicSettingsFactory(time_zone="America/Los_Angeles")  # not the server's zone
    ArticleFactory(title="Live one")
    ArticleFactory(title="Draft one", status=Article.Status.DRAFT)
    ArticleFactory(
        title="Future one", published_at=datetime.datetime(2030, 3, 4, 14, 30, tzinfo=datetime.UTC)
    )
    page = text_of(editor.get(admin_url(Article, "changelist")))
    row = r'<th class="field-title"><a [^>]*>([^<]+)</a></th><td class="field-status_text">'
    rows = dict(re.findall(row + r"([^<]+)</td>", page))
    assert rows == {
        "Live one": "Published",
        "Draft one": "Draft (only staff can see it)",
        "Future one": "Scheduled for March 4, 2030, 6:30 a.m.",  # the clinic's time
    }
