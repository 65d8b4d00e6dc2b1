"""The anonymous page cache: shared, cleared by any edit, never serving what went stale."""

import datetime
from http import HTTPStatus

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pages.cache import invalidate
from pages.models import Article

from .factories import (
    ArticleFactory,
    ClinicSettingsFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PromotionFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def clinic():
    return ClinicSettingsFactory(time_zone="America/New_York")


def get_twice(client, url):
    first = client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        second = client.get(url)
    return first, second, len(ctx.captured_queries)


@pytest.mark.parametrize("kind", ["home", "articles", "article", "offices", "office", "offer"])
def test_anonymous_pages_are_served_from_cache_with_no_queries(client, kind):
    article = ArticleFactory()
    office = OfficeFactory()
    promo = PromotionFactory()
    url = {
        "home": "/",
        "articles": "/articles/",
        "article": article.get_absolute_url(),
        "offices": "/offices/",
        "office": office.get_absolute_url(),
        "offer": promo.get_absolute_url(),
    }[kind]
    first, second, queries = get_twice(client, url)
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    assert queries == 0
    assert second.content == first.content
    assert not second.cookies  # nothing per visitor in a shared page
    assert "public" in second["Cache-Control"] and "max-age=0" in second["Cache-Control"]


def test_edit_and_delete_show_at_once_including_banner_and_footer(client):
    article = ArticleFactory(title="Old title")
    office = OfficeFactory(name="Avon Office")
    promo = PromotionFactory(eligibility="Firefighters", show_as_banner=True)
    url = article.get_absolute_url()
    get_twice(client, url)

    article.title = "New title"
    article.save()
    html = client.get(url).content.decode()
    assert "New title" in html and "Old title" not in html

    office.name = "Avon Studio"
    office.save()
    promo.eligibility = "Nurses"
    promo.save()
    html = client.get(url).content.decode()
    assert "Avon Studio" in html  # the footer's office list
    assert "Nurses" in html and "Firefighters" not in html  # the banner

    promo.delete()
    assert 'class="promo-banner' not in client.get(url).content.decode()
    article.delete()
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_admin_action_clears_cached_pages(admin_client, client):
    article = ArticleFactory(title="Soon a draft")
    get_twice(client, "/articles/")
    admin_client.post(
        "/admin/pages/article/",
        {"action": "make_draft", "_selected_action": [article.pk]},
    )
    assert "Soon a draft" not in client.get("/articles/").content.decode()


def test_staff_never_get_or_fill_the_cache(admin_client, client):
    draft = ArticleFactory(title="Secret draft", status=Article.Status.DRAFT)
    live = ArticleFactory(title="Public one")
    response = admin_client.get(draft.get_absolute_url())
    assert response.status_code == HTTPStatus.OK and "X-Page-Cache" not in response
    assert admin_client.get(live.get_absolute_url()).get("X-Page-Cache") is None
    assert client.get(draft.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    assert client.get(live.get_absolute_url())["X-Page-Cache"] == "miss"


def test_form_pages_and_error_pages_are_not_cached(client):
    assert "X-Page-Cache" not in client.get("/consultation/")
    response = client.post("/consultation/", {"name": ""})
    assert "X-Page-Cache" not in response
    assert client.get("/nope/").status_code == HTTPStatus.NOT_FOUND
    assert "X-Page-Cache" not in client.get("/nope/")


def test_conditional_get_answers_304(client):
    ArticleFactory()
    first = client.get("/articles/")
    etag = first["ETag"]
    again = client.get("/articles/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again.content == b""


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_open_now_line_is_not_served_stale_from_cache(client):
    office = OfficeFactory()
    OpeningHoursFactory(office=office, weekday=2, opens="09:00", closes="17:00")
    url = office.get_absolute_url()
    # Wednesday 2026-11-18, 16:59 in New York (21:59 UTC), then 17:01.
    with time_machine.travel(datetime.datetime(2026, 11, 18, 21, 59, tzinfo=UTC), tick=False):
        first, second, _ = get_twice(client, url)
        assert "Open now" in second.content.decode() and second["X-Page-Cache"] == "hit"
    with time_machine.travel(datetime.datetime(2026, 11, 18, 22, 1, tzinfo=UTC), tick=False):
        response = client.get(url)
        assert response["X-Page-Cache"] == "miss"
        assert "Closed now" in response.content.decode()


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_offer_ending_today_leaves_cached_pages_at_midnight(client):
    PromotionFactory(title="Ends tonight", show_as_banner=True, ends_on=datetime.date(2026, 11, 18))
    with time_machine.travel(datetime.datetime(2026, 11, 19, 4, 58, tzinfo=UTC), tick=False):
        _, second, _ = get_twice(client, "/articles/")  # 23:58 in New York
        assert 'class="promo-banner' in second.content.decode()
    with time_machine.travel(datetime.datetime(2026, 11, 19, 5, 2, tzinfo=UTC), tick=False):
        # Four minutes later: well within PAGE_CACHE_SECONDS, but a new day.
        assert 'class="promo-banner' not in client.get("/articles/").content.decode()


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_scheduled_article_appears_on_time_despite_cache(client):
    when = timezone.now() + datetime.timedelta(minutes=2)  # sooner than PAGE_CACHE_SECONDS
    ArticleFactory(title="Scheduled piece", published_at=when)
    _, second, _ = get_twice(client, "/articles/")
    assert "Scheduled piece" not in second.content.decode()
    with time_machine.travel(when + datetime.timedelta(seconds=5), tick=False):
        assert "Scheduled piece" in client.get("/articles/").content.decode()


def test_proxy_cache_lifetime_is_opt_in_and_bounded(client, settings):
    ArticleFactory()
    assert "X-Accel-Expires" not in client.get("/articles/")
    settings.PROXY_CACHE_SECONDS = 10
    invalidate()
    response = client.get("/articles/")
    assert response["X-Accel-Expires"] == "10"
    assert "X-Accel-Expires" not in client.get("/consultation/")
