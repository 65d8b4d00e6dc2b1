"""The anonymous page cache: shared, cleared by any edit, never serving what went stale."""

import datetime
import runpy
from http import HTTPStatus
from pathlib import Path

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

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

UTC = datetime.UTC
SETTINGS_FILE = Path(__file__).resolve().parent.parent / "clinic_site" / "settings.py"


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
    assert first.page_cache == "miss" and second.page_cache == "hit"
    assert queries == 0
    assert second.content == first.content
    assert not second.cookies  # nothing per visitor in a shared page
    assert "public" in second["Cache-Control"] and "max-age=0" in second["Cache-Control"]


def test_production_does_not_tell_visitors_what_the_page_cache_did(client, settings, monkeypatch):
    for name in ("DJANGO_DEBUG", "DJANGO_PAGE_CACHE_HEADER"):
        monkeypatch.delenv(name, raising=False)
    production = runpy.run_path(str(SETTINGS_FILE))  # settings.py's defaults
    settings.DEBUG = production["DEBUG"]
    settings.PAGE_CACHE_HEADER = production["PAGE_CACHE_HEADER"]
    first, hit, _ = get_twice(client, "/")
    assert (first.page_cache, hit.page_cache) == ("miss", "hit")
    assert "X-Page-Cache" not in first and "X-Page-Cache" not in hit


@pytest.mark.parametrize(("debug", "asked"), [(True, False), (False, True)])
def test_debug_or_the_benchmark_setting_shows_the_page_cache_header(client, settings, debug, asked):
    settings.DEBUG, settings.PAGE_CACHE_HEADER = debug, asked
    first, hit, _ = get_twice(client, "/")
    assert (first["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert client.get("/consultation/").get("X-Page-Cache") is None  # not a cached page


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
    assert response.status_code == HTTPStatus.OK and response.page_cache is None
    assert admin_client.get(live.get_absolute_url()).page_cache is None
    assert client.get(draft.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    assert client.get(live.get_absolute_url()).page_cache == "miss"


def test_form_pages_and_error_pages_are_not_cached(client):
    assert client.get("/consultation/").page_cache is None
    response = client.post("/consultation/", {"name": ""})
    assert response.page_cache is None
    assert client.get("/nope/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/nope/").page_cache is None


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
        assert "Open now" in second.content.decode() and second.page_cache == "hit"
    with time_machine.travel(datetime.datetime(2026, 11, 18, 22, 1, tzinfo=UTC), tick=False):
        response = client.get(url)
        assert response.page_cache == "miss"
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


# Page fragments (pages/cache.py page_fragment, the {% fragment %} tag): a page the page
# cache has to build reuses its header, footer, SEO head and article parts.


def test_uncached_page_reuses_fragments_and_still_shows_an_edit_at_once(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the page itself is never stored
    article = ArticleFactory(title="Old title")
    ArticleFactory(title="A related piece")
    url = article.get_absolute_url()
    with CaptureQueriesContext(connection) as cold:
        first = client.get(url)
    with CaptureQueriesContext(connection) as warm:
        second = client.get(url)
    assert first.page_cache == second.page_cache == "miss"
    assert second.content == first.content
    # Only the article itself is looked up: related articles come with their fragment.
    assert len(warm.captured_queries) == 1 < len(cold.captured_queries)

    article.title = "New title"
    article.save()
    html = client.get(url).content.decode()
    assert "Old title" not in html
    assert html.count("New title") >= 5  # <title>, og:title, JSON-LD, breadcrumbs, <h1>


def test_header_fragment_is_kept_per_page(client):
    ArticleFactory()
    for _ in range(2):
        articles = client.get("/articles/").content.decode()
        offices = client.get("/offices/").content.decode()
        assert 'href="/articles/" aria-current="page"' in articles
        assert 'href="/offices/" aria-current="page"' in offices
        assert 'href="/offices/" aria-current="page"' not in articles
        assert "from=%2Foffices%2F" in offices and "from=%2Farticles%2F" in articles


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
def test_made_up_paths_store_no_fragments(client):
    from django.core.cache import cache

    ArticleFactory()
    client.get("/articles/")
    stored = set(cache._cache)
    assert any(":html:" in key for key in stored)  # the list page did store its fragments
    for n in range(20):
        assert client.get(f"/articles/made-up-{n}/").status_code == HTTPStatus.NOT_FOUND
        assert client.get(f"/no-such-page-{n}/").status_code == HTTPStatus.NOT_FOUND
    assert set(cache._cache) == stored


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_scheduled_article_joins_related_articles_on_time(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    article = ArticleFactory(title="Main piece")
    when = timezone.now() + datetime.timedelta(minutes=2)  # sooner than FRAGMENT_CACHE_SECONDS
    ArticleFactory(title="Scheduled piece", published_at=when)
    url = article.get_absolute_url()
    client.get(url)
    assert "Scheduled piece" not in client.get(url).content.decode()
    with time_machine.travel(when + datetime.timedelta(seconds=5), tick=False):
        assert "Scheduled piece" in client.get(url).content.decode()


def test_staff_preview_never_reads_fragments(admin_client, client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    article = ArticleFactory(title="Published title")
    client.get(article.get_absolute_url())  # fragments stored for anonymous visitors
    Article.objects.filter(pk=article.pk).update(title="Edited without signals")
    html = admin_client.get(article.get_absolute_url()).content.decode()
    assert "Edited without signals" in html and "Published title" not in html


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_proxy_is_told_only_what_is_left_of_a_cached_page_life(client, settings):
    settings.PROXY_CACHE_SECONDS = 300
    ArticleFactory()
    # 23:58 in New York: the page lives until midnight, 120 s.
    with time_machine.travel(datetime.datetime(2026, 11, 19, 4, 58, tzinfo=UTC), tick=False):
        first = client.get("/articles/")
    assert first.page_cache == "miss" and first["X-Accel-Expires"] == "120"
    with time_machine.travel(datetime.datetime(2026, 11, 19, 4, 59, tzinfo=UTC), tick=False):
        hit = client.get("/articles/")
    assert hit.page_cache == "hit" and hit["X-Accel-Expires"] == "60"


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_a_page_leaves_the_cache_at_midnight_on_the_day_the_clocks_change(client, settings):
    settings.PAGE_CACHE_SECONDS = 86400
    settings.PROXY_CACHE_SECONDS = 86400  # the header shows the page's remaining life
    ArticleFactory()
    # Sunday 2026-03-08, 01:00 EST in New York; at 02:00 the clocks jump to 03:00 EDT, so
    # midnight is 22 hours away, not the 23 the clock face suggests.
    with time_machine.travel(datetime.datetime(2026, 3, 8, 6, 0, tzinfo=UTC), tick=False):
        response = client.get("/articles/")
    assert response["X-Accel-Expires"] == str(22 * 3600)
