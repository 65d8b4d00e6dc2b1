import datetime
import re
from html import unescape
from http import HTTPStatus
from urllib.parse import quote_plus

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pages.models import Article

from .factories import (
    ArticleFactory,
    ClinicSettingsFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PromotionFactory,
)

pytestmark = pytest.mark.django_db


def h1_count(response):
    return len(re.findall(rb"<h1[\s>]", response.content))


@pytest.mark.parametrize(
    "url",
    ["/", "/articles/", "/offices/"],
)
def test_pages_show_clinic_name_and_phone_in_header_and_footer(client, clinic, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    header, _, footer = html.partition("<main")
    assert clinic.name in header and 'href="tel:+18605550199"' in header
    assert clinic.name in footer and "(860) 555-0199" in footer
    assert clinic.footer_text in footer
    assert h1_count(response) == 1
    assert 'href="#main"' in html  # skip link


def test_every_page_type_has_exactly_one_h1(client, clinic):
    article = ArticleFactory()
    office = OfficeFactory()
    promo = PromotionFactory()
    for url in [article.get_absolute_url(), office.get_absolute_url(), promo.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert h1_count(response) == 1, url


def test_home_lists_latest_articles_offices_and_offers(client, clinic):
    ArticleFactory(title="Fresh article")
    ArticleFactory(title="Hidden draft", status=Article.Status.DRAFT)
    OfficeFactory(name="Avon Office", phone="(860) 555-0103")
    OfficeFactory(name="Closed Office", is_active=False)
    PromotionFactory(title="Responders offer")
    response = client.get("/")
    html = response.content.decode()
    assert "Fresh article" in html
    assert "Hidden draft" not in html
    assert "Avon Office" in html and 'href="tel:+18605550103"' in html
    assert "Closed Office" not in html
    assert "Responders offer" in html and "$50.00" in html
    assert "Free consultation" in html


def test_article_visibility_published_draft_and_scheduled(client, clinic):
    live = ArticleFactory(title="Live one")
    draft = ArticleFactory(title="Draft one", status=Article.Status.DRAFT)
    scheduled = ArticleFactory(
        title="Future one", published_at=timezone.now() + datetime.timedelta(days=2)
    )
    listing = client.get(reverse("pages:article_list")).content.decode()
    assert "Live one" in listing
    assert "Draft one" not in listing and "Future one" not in listing
    assert client.get(live.get_absolute_url()).status_code == HTTPStatus.OK
    assert client.get(draft.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    assert client.get(scheduled.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


def test_scheduled_article_appears_by_itself_when_its_time_comes(client, clinic):

    when = timezone.now() + datetime.timedelta(days=2)
    article = ArticleFactory(published_at=when)
    assert client.get(article.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    with time_machine.travel(when + datetime.timedelta(minutes=1), tick=False):
        assert client.get(article.get_absolute_url()).status_code == HTTPStatus.OK


def test_staff_preview_of_draft_is_private_and_marked(admin_client, clinic):
    draft = ArticleFactory(title="Work in progress", status=Article.Status.DRAFT)
    response = admin_client.get(draft.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert "Work in progress" in response.content.decode()
    assert "Preview" in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


def test_published_article_page_is_not_marked_private(client, clinic):
    article = ArticleFactory()
    response = client.get(article.get_absolute_url())
    assert "private" not in response.get("Cache-Control", "")
    assert "Preview" not in response.content.decode()


def test_article_detail_shows_byline_dates_review_body_related_and_cta(client, clinic):
    article = ArticleFactory(
        title="Needles explained",
        author="Sylvestra Ramirez",
        body="<h2>What happens</h2><ul><li>First step</li></ul>",
        reviewed_by="Jordan Ellis, PT",
        reviewed_on=datetime.date(2026, 1, 5),
        published_at=timezone.make_aware(datetime.datetime(2026, 2, 1, 10, 0)),
    )
    ArticleFactory(title="Another read")
    ArticleFactory(title="Draft sibling", status=Article.Status.DRAFT)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "By Sylvestra Ramirez" in html
    assert "February 1, 2026" in html
    assert "Medically reviewed by Jordan Ellis, PT" in html and "January 5, 2026" in html
    assert "<h2>What happens</h2>" in html and "<li>First step</li>" in html
    assert "Another read" in html  # related
    assert "Draft sibling" not in html
    assert "free" in html.lower() and "consultation" in html.lower()


def test_article_body_is_sanitised_even_when_saved_by_code(client, clinic):
    article = ArticleFactory(
        body='<p onclick="x()">Hi</p><script>alert(1)</script>'
        '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">bad</a>'
    )
    article.refresh_from_db()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<img"):
        assert needle not in article.body
    html = client.get(article.get_absolute_url()).content.decode()
    assert "alert(1)" not in html


def test_article_list_paginates(client, clinic):
    ArticleFactory.create_batch(13)
    first = client.get("/articles/")
    assert "Page 1 of 2" in first.content.decode()
    assert client.get("/articles/?page=2").status_code == HTTPStatus.OK
    assert client.get("/articles/?page=99").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/articles/?page=abc").status_code == HTTPStatus.NOT_FOUND


def test_office_detail_shows_address_phone_directions_hours_and_closures(client, clinic):
    office = OfficeFactory(
        name="Bloomfield Office",
        street="45 Wintonbury Ave",
        suite="Ste 308",
        city="Bloomfield",
        zip_code="06002",
        phone="(860) 555-0101",
    )
    for weekday in range(5):
        OpeningHoursFactory(office=office, weekday=weekday)
    ClosureFactory(office=office, reason="Staff training day")
    ClosureFactory(
        office=office, date=timezone.localdate() - datetime.timedelta(days=10), reason="Old day"
    )
    html = client.get(office.get_absolute_url()).content.decode()
    assert "45 Wintonbury Ave, Ste 308" in html and "Bloomfield, CT 06002" in html
    assert 'href="tel:+18605550101"' in html
    assert "https://www.google.com/maps/dir/?api=1&amp;destination=45+Wintonbury+Ave" in html
    assert "Get directions" in html
    assert "Staff training day" in html and "Old day" not in html
    assert 'aria-current="date"' in html  # today's row is highlighted
    assert html.count("8:00 AM – 5:00 PM") >= 4
    assert "Open now" in html or "Closed now" in html or "Closed today" in html


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_office_open_now_line_follows_the_clinic_clock(client):

    ClinicSettingsFactory(time_zone="America/New_York")
    office = OfficeFactory()
    OpeningHoursFactory(office=office, weekday=2, opens=datetime.time(9), closes=datetime.time(17))
    # Wednesday 2026-11-18, 10:00 in New York is 15:00 UTC.
    with time_machine.travel(
        datetime.datetime(2026, 11, 18, 15, 0, tzinfo=datetime.UTC), tick=False
    ):
        html = client.get(office.get_absolute_url()).content.decode()
        assert "Open now · until 5 PM" in html
    with time_machine.travel(
        datetime.datetime(2026, 11, 18, 23, 0, tzinfo=datetime.UTC), tick=False
    ):
        html = client.get(office.get_absolute_url()).content.decode()
        assert "Closed now" in html


def test_inactive_office_is_404_for_visitors(client, clinic):
    office = OfficeFactory(is_active=False)
    assert client.get(office.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    assert office.name not in client.get("/offices/").content.decode()


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_banner_shows_active_promotions_and_vanishes_when_expired(client, clinic):

    today = timezone.localdate()
    promo = PromotionFactory(
        title="Responders",
        show_as_banner=True,
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=1),
    )
    PromotionFactory(title="Not a banner", show_as_banner=False)
    html = client.get("/articles/").content.decode()
    assert 'aria-label="Special offer"' in html and promo.get_absolute_url() in html
    assert html.count('class="promo-banner') == 1
    with time_machine.travel(today + datetime.timedelta(days=3), tick=False):
        html = client.get("/articles/").content.decode()
        assert 'class="promo-banner' not in html
        assert client.get(promo.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


def test_inactive_or_future_promotion_is_hidden(client, clinic):
    today = timezone.localdate()
    off = PromotionFactory(is_active=False, show_as_banner=True)
    future = PromotionFactory(starts_on=today + datetime.timedelta(days=5), show_as_banner=True)
    html = client.get("/").content.decode()
    assert off.title not in html and future.title not in html
    assert client.get(off.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    assert client.get(future.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


def test_promotion_detail_shows_amount_who_and_fine_print(client, clinic):
    promo = PromotionFactory(how_to_claim="Call us and show your ID.")
    html = client.get(promo.get_absolute_url()).content.decode()
    assert "$50.00 off fitness memberships" in html
    assert "Firefighters, military, EMTs and police officers" in html
    assert "Some exclusions may apply." in html
    assert "Call us and show your ID." in html


def test_friendly_404(client, clinic):
    response = client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    html = response.content.decode()
    assert "couldn" in html and clinic.name in html
    assert h1_count(response) == 1


def test_friendly_500_page_with_phone(clinic):
    from clinic_site.views import server_error

    response = server_error(None)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    html = response.content.decode()
    assert "something went wrong" in html.lower()
    assert "(860) 555-0199" in html


def test_pages_work_before_any_content_exists(client):
    for url in ["/", "/articles/", "/offices/"]:
        assert client.get(url).status_code == HTTPStatus.OK


def test_pages_are_usable_on_a_narrow_phone(client, clinic):
    html = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # Nothing needs JavaScript (JSON-LD blocks are data), nothing loads from another host.
    assert re.search(r'<script(?![^>]*type="application/ld\+json")', html) is None
    external = re.findall(r'(?:src|href|srcset)="(https?://[^"]*)"', html)
    assert [
        u
        for u in external
        if not u.startswith(("http://127.0.0.1", "http://testserver"))
        and "google.com/maps" not in u
    ] == []


def test_every_get_directions_link_opens_directions_not_a_search(client, clinic):
    office = OfficeFactory(street="45 Main St", suite="Ste 308", city="Avon", zip_code="06001")
    destination = "https://www.google.com/maps/dir/?api=1&destination=" + quote_plus(
        office.full_address
    )
    for url in ["/", "/offices/", office.get_absolute_url()]:
        html = client.get(url).content.decode()
        links = [
            unescape(href) for href in re.findall(r'href="([^"]*google\.com/maps[^"]*)"', html)
        ]
        assert links and set(links) == {destination}, (url, links)
