"""The anonymous page cache: shared, cleared by any edit, never serving what went stale."""

import datetime
import gzip
import runpy
import threading
from http import HTTPStatus
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic_site.models import ClinicSettings
from pages.cache import invalidate
from pages.models import Article

from .conftest import on_postgresql
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


def page_entries() -> set:
    """The page cache's entries (the local-memory cache's keys: ``locmem_cache`` tests)."""
    return {key for key in cache._cache if "pagecache:page:" in key}


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


def test_edit_and_delete_show_at_once_including_banner_and_footer(client, commit):
    article = ArticleFactory(title="Old title")
    office = OfficeFactory(name="Avon Office")
    promo = PromotionFactory(eligibility="Firefighters", show_as_banner=True)
    url = article.get_absolute_url()
    get_twice(client, url)

    with commit():
        article.title = "New title"
        article.save()
    html = client.get(url).content.decode()
    assert "New title" in html and "Old title" not in html

    with commit():
        office.name = "Avon Studio"
        office.save()
        promo.eligibility = "Nurses"
        promo.save()
    html = client.get(url).content.decode()
    assert "Avon Studio" in html  # the footer's office list
    assert ">Avon Studio</option>" in html and "Avon Office" not in html  # the form's
    assert "Nurses" in html and "Firefighters" not in html  # the banner

    with commit():
        promo.delete()
    assert 'class="promo-banner' not in client.get(url).content.decode()
    with commit():
        article.delete()
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_the_version_moves_when_an_edit_commits_not_when_it_is_saved(client, commit):
    article = ArticleFactory(title="Old title")
    url = article.get_absolute_url()
    get_twice(client, url)
    with commit(), transaction.atomic():
        article.title = "New title"
        article.save()
        # Saved, not committed: other visitors cannot see the row yet, so the page stored
        # before is still the one to serve (and one built now goes under the old version).
        during = client.get(url)
        assert during.page_cache == "hit" and "Old title" in during.content.decode()
    after = client.get(url)
    assert after.page_cache == "miss" and "New title" in after.content.decode()


@pytest.mark.skipif(
    not on_postgresql(),
    reason="PostgreSQL pass only: SQLite's in-memory test database lets no other connection "
    "read a table while a write to it is not committed",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("edited", ["article title", "clinic name"])
def test_a_visitor_between_the_save_and_the_commit_leaves_no_old_page_behind(client, edited):
    """The reported bug: a page built while an edit was saved but not yet committed was
    stored under the new version, and every visitor got the old page after the commit.
    The clinic's name (on every page) comes from a cache of its own, kept the same way."""
    article = ArticleFactory(title="Old words")
    url = article.get_absolute_url()
    saved, go_on = threading.Event(), threading.Event()

    def staff_edit():  # as in admin: its own connection, its own transaction
        try:
            with transaction.atomic():
                if edited == "article title":
                    row, field = Article.objects.get(pk=article.pk), "title"
                else:
                    row, field = ClinicSettings.objects.get(), "name"
                setattr(row, field, "New words")
                row.save()
                saved.set()
                go_on.wait(30)
        finally:
            connection.close()

    if edited == "clinic name":
        ClinicSettings.objects.update(name="Old words")
        article.title = "Some article"
        article.save()
    editor = threading.Thread(target=staff_edit)
    editor.start()
    try:
        assert saved.wait(30)
        during = client.get(url).content.decode()  # another visitor, before the commit
        assert "Old words" in during and "New words" not in during
    finally:
        go_on.set()
        editor.join(30)
    after = client.get(url).content.decode()
    assert "New words" in after and "Old words" not in after


def test_admin_action_clears_cached_pages(admin_client, client, commit):
    article = ArticleFactory(title="Soon a draft")
    get_twice(client, "/articles/")
    with commit():
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


def test_proxy_cache_lifetime_is_opt_in_and_bounded(client, settings, commit):
    ArticleFactory()
    assert "X-Accel-Expires" not in client.get("/articles/")
    settings.PROXY_CACHE_SECONDS = 10
    with commit():
        invalidate()
    response = client.get("/articles/")
    assert response["X-Accel-Expires"] == "10"
    assert "X-Accel-Expires" not in client.get("/consultation/")


def test_an_edit_shows_everywhere_on_a_page_at_once(client, commit):
    article = ArticleFactory(title="Old title")
    ArticleFactory(title="A related piece")
    url = article.get_absolute_url()
    get_twice(client, url)
    with commit():
        article.title = "New title"
        article.save()
    html = client.get(url).content.decode()
    assert "Old title" not in html
    assert html.count("New title") >= 5  # <title>, og:title, JSON-LD, breadcrumbs, <h1>


def test_each_cached_page_marks_its_own_menu_entry(client):
    ArticleFactory()
    for _ in range(2):
        articles = client.get("/articles/").content.decode()
        offices = client.get("/offices/").content.decode()
        assert 'href="/articles/" aria-current="page"' in articles
        assert 'href="/offices/" aria-current="page"' in offices
        assert 'href="/offices/" aria-current="page"' not in articles
        assert "from=%2Foffices%2F" in offices and "from=%2Farticles%2F" in articles


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
def test_made_up_paths_store_nothing(client):
    ArticleFactory()
    client.get("/articles/")
    stored = set(cache._cache)
    assert page_entries()  # the list page was stored
    for n in range(20):
        assert client.get(f"/articles/made-up-{n}/").status_code == HTTPStatus.NOT_FOUND
        assert client.get(f"/no-such-page-{n}/").status_code == HTTPStatus.NOT_FOUND
    assert set(cache._cache) == stored


@pytest.mark.locmem_cache  # moves the clock; Redis would expire entries by its own
def test_scheduled_article_joins_related_articles_on_time(client):
    article = ArticleFactory(title="Main piece")
    when = timezone.now() + datetime.timedelta(minutes=2)  # sooner than PAGE_CACHE_SECONDS
    ArticleFactory(title="Scheduled piece", published_at=when)
    url = article.get_absolute_url()
    client.get(url)
    assert "Scheduled piece" not in client.get(url).content.decode()
    with time_machine.travel(when + datetime.timedelta(seconds=5), tick=False):
        assert "Scheduled piece" in client.get(url).content.decode()


def test_staff_never_see_a_cached_copy(admin_client, client):
    article = ArticleFactory(title="Published title")
    get_twice(client, article.get_absolute_url())  # stored for anonymous visitors
    Article.objects.filter(pk=article.pk).update(title="Edited without signals")
    html = admin_client.get(article.get_absolute_url()).content.decode()
    assert "Edited without signals" in html and "Published title" not in html


# The key: the path and the query parameters a view declares, nothing else.

RANDOM_QUERIES = ["?x=1", "?utm_source=mail&utm_campaign=spring", "?page=3", "?fbclid=abc&x=2"]


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
@pytest.mark.parametrize("kind", ["home", "article", "offices", "office", "offer", "privacy"])
def test_query_strings_a_page_ignores_are_served_its_one_entry(client, kind):
    article, office, promo = ArticleFactory(), OfficeFactory(), PromotionFactory()
    url = {
        "home": "/",
        "article": article.get_absolute_url(),
        "offices": "/offices/",
        "office": office.get_absolute_url(),
        "offer": promo.get_absolute_url(),
        "privacy": "/privacy/",
    }[kind]
    with time_machine.travel(timezone.now(), tick=False):  # one form token for every build
        plain = client.get(url)
        assert plain.page_cache == "miss"
        for query in RANDOM_QUERIES * 5:
            response = client.get(url + query)
            assert response.page_cache == "hit", query
            assert response.content == plain.content
        assert len(page_entries()) == 1
        # What makes one entry right: built afresh (a session cookie passes the cache by),
        # the page is the same with or without the query string.
        cookie = {"HTTP_COOKIE": f"sessionid={'a' * 32}"}
        built = [client.get(url + query, **cookie) for query in ("", RANDOM_QUERIES[1])]
        assert built[0].page_cache is built[1].page_cache is None
        assert built[0].content == built[1].content == plain.content


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
def test_the_article_list_has_one_entry_per_page_number(client):
    ArticleFactory.create_batch(13)  # two pages of 12
    first, second = client.get("/articles/"), client.get("/articles/?page=2")
    assert first.page_cache == second.page_cache == "miss"
    assert first.content != second.content
    for query in ("?page=2", "?page=02", "?x=1&page=2", "?page=1&page=2", "?page=2&utm_source=x"):
        response = client.get(f"/articles/{query}")
        assert response.page_cache == "hit" and response.content == second.content, query
    assert client.get("/articles/?utm_source=x").content == first.content
    assert client.get("/articles/?page=99").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/articles/?page=x").status_code == HTTPStatus.NOT_FOUND
    assert len(page_entries()) == 2


def test_nginx_is_told_to_keep_only_the_address_an_entry_stands_for(client, settings):
    settings.PROXY_CACHE_SECONDS = 10
    ArticleFactory()
    for url in ("/offices/", "/articles/?page=1"):
        assert client.get(url)["X-Accel-Expires"] == "10", url
    # nginx keys on the whole address: each of these would be a new entry there.
    for url in ("/offices/?x=1", "/articles/?page=01", "/articles/?page=1&utm_source=x"):
        response = client.get(url)
        assert response.page_cache == "hit" and "X-Accel-Expires" not in response, url


@pytest.mark.locmem_cache  # reads the local-memory cache's keys
def test_head_get_and_every_allowed_host_share_one_entry(client, settings):
    settings.ALLOWED_HOSTS = ["clinic.example", "www.clinic.example"]
    ArticleFactory()
    head = client.head("/articles/", HTTP_HOST="clinic.example")
    assert head.status_code == HTTPStatus.OK and head.page_cache == "miss"
    get = client.get("/articles/", HTTP_HOST="www.clinic.example")
    assert get.page_cache == "hit" and b"</html>" in get.content
    assert client.head("/articles/", HTTP_HOST="www.clinic.example").page_cache == "hit"
    assert len(page_entries()) == 1


# Compression (make serve has no nginx in front).


def test_pages_are_compressed_for_browsers_that_accept_it(client, settings):
    ArticleFactory()
    plain = client.get("/articles/")
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    for expected in ("hit", "hit"):
        packed = client.get("/articles/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert packed.page_cache == expected
        assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
        assert gzip.decompress(packed.content) == plain.content
        # Both forms of the page answer to one (weak) ETag: a 304 either way.
        assert packed["ETag"] == f"W/{plain['ETag']}"
    again = client.get("/articles/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    unpacked = client.get("/articles/")  # a hit for a browser without gzip: kept packed
    assert unpacked.page_cache == "hit" and unpacked.content == plain.content
    assert "Content-Encoding" not in unpacked and unpacked["ETag"] == plain["ETag"]
    form = client.get("/consultation/", HTTP_ACCEPT_ENCODING="gzip")
    assert form["Content-Encoding"] == "gzip"  # never cached, compressed all the same
    # A picture is compressed already: sent as it is, with its length.
    picture = settings.MEDIA_ROOT / "photo.jpg"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(b"\xff\xd8" + b"\0" * 4000)
    response = client.get("/media/photo.jpg", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == HTTPStatus.OK and "Content-Encoding" not in response
    assert response["Content-Length"] == "4002"


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
