"""Page views per public path per clinic day (clinic_site/visits.py), and nothing else.

Counted: a browser's GET of an ``@public_page`` view answered 200, built or from the page
cache, without a session cookie; written by ``flush()``, imported from nginx's per-minute
files, purged after VIEW_RETENTION_MONTHS. Runs on both passes: the buffer is Redis's hash
on the PostgreSQL + Redis pass, this process's memory otherwise.
"""

import datetime
import io
import logging
import os
import time
from http import HTTPStatus
from types import SimpleNamespace

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, override_settings

from clinic_site import cache as fail_soft_cache
from clinic_site import visits
from clinic_site.models import PageViews
from contact.spam import sign_form_start

from .conftest import on_redis
from .factories import (
    ArticleFactory,
    ClinicSettingsFactory,
    OfficeFactory,
)
from .page_types import load_demo_site, page_urls
from .test_cache_outage import REDIS_SERVER, PrivateRedis

pytestmark = pytest.mark.django_db

UTC = datetime.UTC

CHROME = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
BROWSER = {"User-Agent": CHROME, "Accept-Language": "en-US,en;q=0.9"}
NOW = datetime.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York
TODAY = datetime.date(2026, 12, 1)

# The page types of tests/page_types.py that are @public_page views (shared, counted).
COUNTED_PAGE_TYPES = {
    "home",
    "article-list",
    "article-detail",
    "office-list",
    "office-detail",
    "offer-detail",
    "privacy-notice",
    "service-list",
    "service-detail",
    "team",
    "clinician-detail",
    "page-detail",
}

redis_only = pytest.mark.skipif(
    not on_redis(),
    reason="the Redis pass only: the buffer is a Redis hash only when the cache is Redis "
    "(REDIS_URL set)",
)


@pytest.fixture(autouse=True)
def empty_buffer():
    """No test sees another's views: this process's buffer (and Redis's hash, which the
    conftest's cache.clear() also empties) is drained before and after each test."""
    visits._drain()
    yield
    visits._drain()


@pytest.fixture
def frozen():
    """The clock stopped at NOW: a view is counted on TODAY, whenever the test runs."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def visitor(frozen, clinic):
    """A visitor's browser (a New York clinic): the headers every browser sends."""
    return Client(headers=BROWSER)


def counts() -> dict:
    return {(row.day, row.path): row.views for row in PageViews.objects.all()}


def view(client, url, times=1, **extra) -> list:
    """GET ``url`` ``times`` times; what the page cache did each time."""
    outcomes = []
    for _ in range(times):
        response = client.get(url, **extra)
        assert response.status_code == HTTPStatus.OK, url
        outcomes.append(response.page_cache)
    return outcomes


# --------------------------------------------------------------------------- what counts


def test_every_view_of_a_public_page_is_counted_whether_built_or_cached(visitor, monkeypatch):
    load_demo_site(monkeypatch)
    urls = {name: spec[1] for name, spec in page_urls().items() if name in COUNTED_PAGE_TYPES}
    assert set(urls) == COUNTED_PAGE_TYPES  # page_types.py still has each of them
    for name, url in urls.items():
        assert view(visitor, url, times=4) == ["miss", "hit", "hit", "hit"], name
    assert visits.flush() == 4 * len(urls)
    assert counts() == {(TODAY, url): 4 for url in urls.values()}


def test_a_second_flush_adds_nothing_and_a_later_batch_adds_to_the_row(visitor):
    article = ArticleFactory().get_absolute_url()
    view(visitor, "/", times=3)
    view(visitor, article, times=1)
    assert visits.flush() == 4
    assert visits.flush() == 0
    assert counts() == {(TODAY, "/"): 3, (TODAY, article): 1}
    view(visitor, "/", times=2)
    assert visits.flush() == 2
    assert counts() == {(TODAY, "/"): 5, (TODAY, article): 1}
    assert PageViews.objects.count() == 2  # added to the day's rows, not new ones


def test_a_browser_revalidating_its_copy_is_counted(visitor):
    """Public pages say ``max-age=0, must-revalidate``: a return visit is a conditional GET
    answered 304. The count is taken inside ConditionalGetMiddleware, on the 200 the page
    cache gave, so the return visit is a view like the first."""
    first = visitor.get("/")
    again = visitor.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert visits.flush() == 2
    assert counts() == {(TODAY, "/"): 2}


BOTS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "headless-chrome": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36"
    ),
    "curl": "curl/8.5.0",
    "python-requests": "python-requests/2.32.3",
    "no-user-agent": "",
}
ADMIN = f"/{settings.ADMIN_URL}"
NOT_COUNTED = {
    **{
        f"bot-{name}": ("get", "/", {"User-Agent": agent, "Accept-Language": "en"}, HTTPStatus.OK)
        for name, agent in BOTS.items()
    },
    "no-accept-language": ("get", "/", {"User-Agent": CHROME}, HTTPStatus.OK),
    "sec-purpose-prefetch": ("get", "/", {**BROWSER, "Sec-Purpose": "prefetch"}, HTTPStatus.OK),
    "purpose-prefetch": ("get", "/", {**BROWSER, "Purpose": "prefetch"}, HTTPStatus.OK),
    "prerender": ("get", "/", {**BROWSER, "Sec-Purpose": "prefetch;prerender"}, HTTPStatus.OK),
    "head": ("head", "/", BROWSER, HTTPStatus.OK),
    "post-to-a-public-page": ("post", "/", BROWSER, HTTPStatus.METHOD_NOT_ALLOWED),
    "consultation-post": ("post", "/consultation/", BROWSER, HTTPStatus.OK),  # its errors shown
    "unknown-article": ("get", "/articles/no-such-article/", BROWSER, HTTPStatus.NOT_FOUND),
    "append-slash-redirect": ("get", "/articles", BROWSER, HTTPStatus.MOVED_PERMANENTLY),
    "favicon-redirect": ("get", "/favicon.ico", BROWSER, HTTPStatus.FOUND),
    "admin-login": ("get", f"{ADMIN}login/", BROWSER, HTTPStatus.OK),
    # SearchView is not @public_page (one cached page per query typed would let anyone
    # fill the cache), and only @public_page views are counted.
    "search": ("get", "/search/?q=needling", BROWSER, HTTPStatus.OK),
    # Not @public_page nor @counted: the thanks page follows a request, already counted.
    "thanks": ("get", "/consultation/thanks/", BROWSER, HTTPStatus.OK),
    "theme-css": ("get", "/theme.css", BROWSER, HTTPStatus.OK),
    "static-file": ("get", "/static/css/site.css", BROWSER, HTTPStatus.OK),
    "robots": ("get", "/robots.txt", BROWSER, HTTPStatus.OK),
    "sitemap": ("get", "/sitemap.xml", BROWSER, HTTPStatus.OK),
    "healthz": ("get", "/healthz", BROWSER, HTTPStatus.OK),
}


@pytest.mark.parametrize("case", NOT_COUNTED)
def test_not_counted(visitor, case):
    method, url, headers, status = NOT_COUNTED[case]
    anyone = Client(headers=headers)
    data = {"started": sign_form_start()} if method == "post" else None
    for _ in range(2):  # built, then (where the page cache may answer) from the cache
        args = (url, data) if data else (url,)
        assert getattr(anyone, method)(*args).status_code == status
    view(visitor, "/")  # a browser's view, counted: the counting works in this test
    assert visits.flush() == 1
    assert counts() == {(TODAY, "/"): 1}


def test_the_consultation_form_is_counted_though_never_cached(visitor):
    # @counted: the page most requests are sent from, never in the page cache.
    for _ in range(3):
        view(visitor, "/consultation/")
    assert visits.flush() == 3
    assert counts() == {(TODAY, "/consultation/"): 3}


def test_staff_and_any_session_cookie_are_not_counted(visitor, admin_client, fast_password_hasher):
    article = ArticleFactory().get_absolute_url()
    for url in ("/", article, ADMIN):
        assert admin_client.get(url, headers=BROWSER).status_code == HTTPStatus.OK
    # The middleware never opens the session (that would add Vary: Cookie to shared
    # pages): a session cookie, valid or not, is what keeps staff out of the counts.
    stale = Client(headers=BROWSER)
    stale.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
    view(stale, "/")
    view(visitor, article)
    assert visits.flush() == 1
    assert counts() == {(TODAY, article): 1}


@pytest.mark.parametrize(
    ("zone", "moment", "day"),
    [
        # Tokyo is already on the 2nd; UTC and the server (New York) are on the 1st.
        ("Asia/Tokyo", datetime.datetime(2026, 12, 1, 16, 0, tzinfo=UTC), (2026, 12, 2)),
        # Los Angeles is still on the 30th; UTC and New York are on the 1st.
        (
            "America/Los_Angeles",
            datetime.datetime(2026, 12, 1, 6, 30, tzinfo=UTC),
            (2026, 11, 30),
        ),
    ],
)
def test_a_view_is_counted_on_the_clinics_date(zone, moment, day):
    ClinicSettingsFactory(time_zone=zone)
    with time_machine.travel(moment, tick=False):
        assert view(Client(headers=BROWSER), "/", times=2) == ["miss", "hit"]
    assert visits.flush() == 2
    assert counts() == {(datetime.date(*day), "/"): 2}


@pytest.mark.locmem_cache  # on the Redis pass too: this is the buffer used without Redis
def test_the_local_buffer_writes_itself_after_a_minute_without_a_worker(visitor, monkeypatch):
    """Without Redis no worker can read a web process's buffer: the process writes it
    itself, LOCAL_FLUSH_SECONDS after its last write."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(visits, "time", SimpleNamespace(monotonic=lambda: clock.now))
    visits._drain()  # the last write: now, by this clock
    view(visitor, "/")
    clock.now += visits.LOCAL_FLUSH_SECONDS - 1
    view(visitor, "/")
    assert counts() == {}
    clock.now += 1
    view(visitor, "/")
    assert counts() == {(TODAY, "/"): 3}
    assert visits.flush() == 0  # nothing left behind in the buffer


# --------------------------------------------------------------------------- nothing kept


def test_no_page_sets_a_cookie_or_varies_on_cookie_while_views_are_counted(visitor, monkeypatch):
    load_demo_site(monkeypatch)
    counted = 0
    for name, (method, url, data, status) in page_urls().items():
        for _ in range(2):  # built, then from the page cache where it may answer
            response = getattr(visitor, method)(url, data) if data else visitor.get(url)
            assert response.status_code == status, name
            assert not response.cookies, name
            assert not response.has_header("Set-Cookie"), name
            # The error page reads who is logged in (its own reason); it is not counted.
            if name != "not-found":
                assert "cookie" not in response.get("Vary", "").lower(), name
        counted += 2 if name in {*COUNTED_PAGE_TYPES, "consultation-form"} else 0
    assert visits.flush() == counted  # the views were counted, and set nothing


def test_a_count_is_the_day_the_path_and_a_number_only(visitor):
    assert {field.name for field in PageViews._meta.get_fields()} == {"id", "day", "path", "views"}
    view(visitor, "/?utm_source=newsletter&fbclid=abc123", REMOTE_ADDR="203.0.113.77")
    view(visitor, "/", HTTP_REFERER="https://search.example/?q=knee+pain")
    visits.flush()
    [row] = PageViews.objects.values("day", "path", "views")
    assert row == {"day": TODAY, "path": "/", "views": 2}


@redis_only
def test_the_redis_buffer_holds_the_day_and_the_path_only(visitor):
    article = ArticleFactory().get_absolute_url()
    view(visitor, "/?utm_source=newsletter", times=2)
    view(visitor, article)
    visits.push()  # what the process's thread does each second
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    key = cache.make_key(visits.BUFFER_KEY)
    assert raw.hgetall(key) == {b"2026-12-01 /": b"2", f"2026-12-01 {article}".encode(): b"1"}
    assert visits.flush() == 3
    assert not raw.exists(key)
    assert counts() == {(TODAY, "/"): 2, (TODAY, article): 1}


@redis_only
def test_each_process_hands_its_counts_to_redis_within_a_second():
    visits.record(TODAY, "/pushed/", 3)
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    key = cache.make_key(visits.BUFFER_KEY)
    deadline = time.monotonic() + 5 * visits.PUSH_SECONDS
    while not raw.hget(key, f"{TODAY} /pushed/") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert raw.hget(key, f"{TODAY} /pushed/") == b"3"  # no request, no flush: the thread


def test_counting_logs_nothing_that_identifies_a_visitor(visitor, caplog):
    address = "203.0.113.77"
    office = OfficeFactory().get_absolute_url()
    with caplog.at_level(logging.DEBUG):
        for url in ("/", "/", office):
            view(visitor, url, REMOTE_ADDR=address)
        assert visits.flush() == 3
    logged = "\n".join(f"{record.getMessage()} {vars(record)!r}" for record in caplog.records)
    assert CHROME not in logged and "Android 14" not in logged
    assert address not in logged


# --------------------------------------------------------------------------- failures


@pytest.fixture(params=["full", "down"])
def broken_redis(request, tmp_path, monkeypatch):
    """The site's cache on a Redis that refuses writes or is not running (as in
    tests/test_cache_outage.py)."""
    monkeypatch.setattr(fail_soft_cache, "_last_warning", {})
    server = PrivateRedis(tmp_path).start()
    try:
        if request.param == "full":
            server.fill()
        else:
            server.kill()
        with override_settings(CACHES=server.cache_settings()):
            yield request.param
    finally:
        server.kill()


@redis_only
@pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server (Debian: redis-server)")
def test_pages_answer_and_nothing_raises_when_redis_is_full_or_down(clinic, broken_redis):
    article = ArticleFactory().get_absolute_url()
    anyone = Client(headers=BROWSER)  # raises whatever a view or middleware raises
    for url in ("/", "/", article):
        response = anyone.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert response.page_cache is None, url  # built from the database
    written = visits.flush()  # the counts lost with Redis, or written: never an error
    assert sum(counts().values()) == written


def test_a_failed_write_keeps_the_counts_for_the_next_flush(visitor, monkeypatch):
    article = ArticleFactory().get_absolute_url()
    save, attempts = visits.save, []

    def save_failing_once(batch):
        attempts.append(dict(batch))
        if len(attempts) == 1:
            raise OperationalError("the database went away")
        save(batch)

    monkeypatch.setattr(visits, "save", save_failing_once)
    view(visitor, "/", times=3)
    view(visitor, article, times=2)
    with pytest.raises(OperationalError):
        visits.flush()
    assert counts() == {}
    assert visits.flush() == 5
    assert attempts[1] == attempts[0] == {(TODAY, "/"): 3, (TODAY, article): 2}
    assert counts() == {(TODAY, "/"): 3, (TODAY, article): 2}
    assert visits.flush() == 0


# --------------------------------------------------------------------------- nginx's files


def write_views(directory, name, lines, age):
    """A per-minute file of nginx's, last written ``age`` seconds ago."""
    path = directory / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def log_dir(tmp_path, clinic):
    directory = tmp_path / "views"
    directory.mkdir()
    return directory


def test_settled_nginx_files_are_counted_and_deleted_fresh_ones_left(log_dir):
    day = datetime.date(2026, 12, 1)
    write_views(
        log_dir,
        "views-2026-12-01T10:14.log",
        ["2026-12-01T10:14:05-05:00 /", "2026-12-01T10:14:40-05:00 /articles/a/"],
        age=120,
    )
    write_views(log_dir, "views-2026-12-01T10:15.log", ["2026-12-01T10:15:01-05:00 /"], age=66)
    # Left half-way by a worker that stopped: counted, however recent.
    write_views(
        log_dir, "views-2026-12-01T10:13.log.importing", ["2026-12-01T10:13:59-05:00 /x/"], age=0
    )
    fresh = write_views(
        log_dir, "views-2026-12-01T10:16.log", ["2026-12-01T10:16:00-05:00 /"], age=5
    )
    others = {
        write_views(log_dir, name, ["2026-12-01T10:12:00-05:00 /other/"], age=600).name
        for name in (
            "views-2026-12-01T10:12.log.gz",
            "views-2026-12-01.log",
            "access.log",
            "views-2026-12-01T10:12.txt",
        )
    }
    assert visits.import_nginx_views(log_dir, settle_seconds=65) == 4
    assert counts() == {(day, "/"): 2, (day, "/articles/a/"): 1, (day, "/x/"): 1}
    assert {path.name for path in log_dir.iterdir()} == {fresh.name, *others}

    os.utime(fresh, (time.time() - 70, time.time() - 70))  # its minute is over
    assert visits.import_nginx_views(log_dir, settle_seconds=65) == 1
    assert counts()[(day, "/")] == 3
    assert {path.name for path in log_dir.iterdir()} == others


def test_malformed_nginx_lines_are_skipped(log_dir):
    day = datetime.date(2026, 12, 1)
    longest, too_long = "/" + "a" * 198 + "/", "/" + "b" * 199 + "/"
    write_views(
        log_dir,
        "views-2026-12-01T10:15.log",
        [
            "2026-12-01T10:15:02-05:00 /articles/back-pain/",
            "2026-12-01T10:15:03-05:00 /caf\\u00e9/",  # nginx's escape=json
            f"2026-12-01T10:15:04-05:00 {longest}",
            f"2026-12-01T10:15:05-05:00 {too_long}",
            "",
            "garbage",
            "/just-a-path/",
            "2026-12-01T10:15:06-05:00",
            "2026-12-01T10:15:07 /no-offset/",
            "2026-13-40T10:15:08-05:00 /no-such-date/",
            "2026-12-01T10:15:09-05:00 no-leading-slash/",
            "2026-12-01T10:15:10-05:00 /bad\\escape/",
        ],
        age=120,
    )
    assert visits.import_nginx_views(log_dir, settle_seconds=65) == 3
    assert counts() == {(day, "/articles/back-pain/"): 1, (day, "/café/"): 1, (day, longest): 1}
    assert list(log_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("zone", "moment", "day"),
    [
        ("America/New_York", "2026-12-01T03:00:00+00:00", (2026, 11, 30)),
        ("Asia/Tokyo", "2026-12-01T03:00:00+00:00", (2026, 12, 1)),
        ("Asia/Tokyo", "2026-12-01T10:15:00-05:00", (2026, 12, 2)),
        ("America/Los_Angeles", "2026-12-01T07:30:00+00:00", (2026, 11, 30)),
    ],
)
def test_nginx_views_are_counted_on_the_clinics_date(tmp_path, zone, moment, day):
    ClinicSettingsFactory(time_zone=zone)
    write_views(tmp_path, "views-2026-12-01T10:15.log", [f"{moment} /"], age=120)
    assert visits.import_nginx_views(tmp_path, settle_seconds=65) == 1
    assert counts() == {(datetime.date(*day), "/"): 1}


def test_without_a_directory_nothing_is_imported(tmp_path, clinic, settings, monkeypatch):
    settings.NGINX_VIEW_LOG_DIR = ""
    monkeypatch.chdir(tmp_path)  # not read as "the current directory"
    settled = write_views(tmp_path, "views-2026-12-01T10:15.log", ["2026-12-01T10:15:00Z /"], 120)
    assert visits.import_nginx_views(settle_seconds=65) == 0
    assert settled.exists() and counts() == {}


# --------------------------------------------------------------------------- retention


@pytest.mark.parametrize(
    ("today", "boundary"),
    [
        ((2026, 12, 15), (2024, 11, 15)),
        ((2026, 1, 10), (2023, 12, 10)),  # across a new year
        ((2027, 3, 31), (2025, 2, 28)),  # no 31 February: its last day
    ],
)
def test_purge_deletes_rows_older_than_25_months_to_the_day(today, boundary):
    today, boundary = datetime.date(*today), datetime.date(*boundary)
    one_day = datetime.timedelta(days=1)
    days = {
        "25 months and a day": boundary - one_day,
        "a year before": boundary - 365 * one_day,
        "25 months": boundary,
        "25 months less a day": boundary + one_day,
        "today": today,
    }
    for name, day in days.items():
        PageViews.objects.create(day=day, path=f"/{name.replace(' ', '-')}/", views=7)
    assert visits.purge(today, dry_run=True) == 2
    assert PageViews.objects.count() == len(days)
    assert visits.purge(today) == 2
    kept = {"25 months", "25 months less a day", "today"}
    assert set(PageViews.objects.values_list("day", flat=True)) == {days[name] for name in kept}


def test_purge_follows_the_retention_setting(settings):
    settings.VIEW_RETENTION_MONTHS = 2
    today = datetime.date(2026, 12, 15)
    PageViews.objects.create(day=datetime.date(2026, 10, 14), path="/", views=1)
    PageViews.objects.create(day=datetime.date(2026, 10, 15), path="/", views=1)
    assert visits.purge(today) == 1
    assert list(PageViews.objects.values_list("day", flat=True)) == [datetime.date(2026, 10, 15)]


def test_purge_command_deletes_old_counts_by_the_clinics_date():
    # 01:00 on the 15th in Tokyo, still the 14th in UTC and New York: by the clinic's date
    # the 14 November 2024 row is 25 months and a day old.
    ClinicSettingsFactory(time_zone="Asia/Tokyo")
    for day in (14, 15):
        PageViews.objects.create(day=datetime.date(2024, 11, day), path="/", views=3)

    def purge(*args) -> str:
        out = io.StringIO()
        with time_machine.travel(datetime.datetime(2026, 12, 14, 16, 0, tzinfo=UTC), tick=False):
            call_command("purge_consultation_requests", *args, stdout=out)
        return out.getvalue()

    assert "and 1 daily page-view counts older than 25 months" in purge("--dry-run")
    assert PageViews.objects.count() == 2
    assert "Deleted 0 requests (0 spam) and 1 daily page-view counts older than 25 months" in (
        purge()
    )
    assert list(PageViews.objects.values_list("day", flat=True)) == [datetime.date(2024, 11, 15)]


def test_a_missing_nginx_folder_is_said_once_not_every_pass(tmp_path, caplog):
    missing = tmp_path / "no-such-folder"
    for _ in range(3):
        assert visits.import_nginx_views(missing, settle_seconds=0) == 0
    warnings = [r for r in caplog.records if "is not a folder" in r.getMessage()]
    assert len(warnings) <= 1  # at most one an hour (none when an earlier test said it)
    visits._missing_warned[0] = -3600.0
    visits.import_nginx_views(missing, settle_seconds=0)
    assert "no-such-folder is not a folder" in caplog.text
