"""When Redis refuses writes (full under ``noeviction``) or is gone, nothing fails.

A private redis-server (``--maxmemory 2mb --maxmemory-policy noeviction``) is filled until
writes answer OOM, or killed, and the site's cache (the project's backend) points at it:
consultation requests are stored and thanked, public pages are built from the database
(never from the cache), an admin edit saves and shows, and /healthz says the cache is
degraded while the app stays in service. Runs in the PostgreSQL + Redis pass.
"""

import shutil
from collections import Counter
from http import HTTPStatus
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from clinic_site import cache as fail_soft_cache
from contact.models import ConsultationRequest
from pages.cache import VERSION_KEY

from .conftest import on_redis
from .factories import ArticleFactory, OfficeFactory
from .processes import Process, form_fields, replace_field
from .smtp_server import free_port
from .test_consultation_form import form_data

REDIS_SERVER = shutil.which("redis-server")
pytestmark = [
    pytest.mark.skipif(
        not on_redis(),
        reason="the Redis pass only: set REDIS_URL to a dedicated database, e.g. "
        "redis://127.0.0.1:6379/15 (the second `make test` pass does)",
    ),
    pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server (Debian: redis-server)"),
    pytest.mark.django_db,
    pytest.mark.usefixtures("clinic", "fast_password_hasher"),
]

PAGES = ["/", "/offices/", "article", "office"]


class PrivateRedis:
    """A redis-server of its own on a free port: 2 MB at most, and no eviction."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
        command += ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]
        self.process = Process(command, {}, tmp_path / "redis.log", "redis-server")
        self.client = redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> "PrivateRedis":
        self.process.start()
        self.process.wait_for_output("Ready to accept connections", timeout=30)
        assert self.client.ping()
        return self

    def fill(self) -> None:
        """Writes until one answers "OOM command not allowed"; then the limit is halved. A
        full Redis hovers at its limit (a closed connection or a shrunk buffer lets a small
        write through now and then); these tests want every write refused, every time."""
        chunk = b"x" * 64 * 1024
        for n in range(1000):
            try:
                self.client.set(f"filler:{n}", chunk)
            except redis.exceptions.OutOfMemoryError:
                self.client.config_set("maxmemory", "1mb")
                return
        raise AssertionError("redis-server never refused a write")

    def kill(self) -> None:
        self.process.kill()

    def cache_settings(self) -> dict:
        """The project's cache settings (backend, timeouts), on this server."""
        return {"default": {**django_settings.CACHES["default"], "LOCATION": self.url}}


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture(params=["full", "down"])
def broken_cache(request, private_redis, monkeypatch):
    """The site's cache on a Redis that refuses writes ("full") or is not running ("down")."""
    monkeypatch.setattr(fail_soft_cache, "_last_warning", {})  # no earlier test's warning
    if request.param == "full":
        private_redis.fill()
    else:
        private_redis.kill()
    # Left before the autouse fixture clears the (real) test cache.
    with override_settings(CACHES=private_redis.cache_settings()):
        yield request.param


@pytest.fixture
def content():
    return {"article": ArticleFactory(), "office": OfficeFactory()}


def test_the_cache_answers_like_an_empty_one(broken_cache):
    assert cache.get("a") is None and cache.get("a", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("a", 1) is False
    assert cache.set("a", 1) is None and cache.set_many({"a": 1}) == []
    assert cache.get_or_set("a", 7) == 7
    assert cache.delete("a") is False and cache.touch("a") is False
    assert cache.has_key("a") is False
    with pytest.raises(ValueError):
        cache.incr("a")


def test_one_warning_a_minute_per_kind_of_operation(broken_cache, caplog, monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(fail_soft_cache, "time", SimpleNamespace(monotonic=lambda: clock.now))

    def warnings():
        return [r.getMessage() for r in caplog.records if r.name == "clinic_site.cache"]

    for _ in range(50):
        cache.set("a", 1)
        cache.add("b", 1)
    assert len(warnings()) == 2, warnings()  # set and add: writes fail, full or down
    assert all("Error)" in line for line in warnings())  # the exception's type, no text
    clock.now += 59
    cache.set("a", 1)
    assert len(warnings()) == 2
    clock.now += 1
    cache.set("a", 1)
    assert len(warnings()) == 3


def test_consultation_requests_are_stored_and_thanked(broken_cache, caplog):
    patient = Client(raise_request_exception=False)  # a 500 is counted, not raised
    statuses, locations = Counter(), Counter()
    for n in range(100):  # one address each: the form takes 5 per address per 10 minutes
        response = patient.post("/consultation/", form_data(), REMOTE_ADDR=f"198.51.100.{n}")
        statuses[response.status_code] += 1
        locations[response.get("Location")] += 1
    assert statuses == {HTTPStatus.FOUND: 100}
    assert locations == {"/consultation/thanks/": 100}
    assert ConsultationRequest.objects.count() == 100
    thanks = patient.get("/consultation/thanks/")
    assert thanks.status_code == HTTPStatus.OK
    assert "Thank you, we have your request" in thanks.content.decode()
    # One warning per kind of operation, however many failed (at most one a minute).
    warnings = [r.getMessage() for r in caplog.records if r.name == "clinic_site.cache"]
    assert warnings and len(warnings) == len(set(warnings)), warnings


def test_public_pages_are_built_from_the_database(content, broken_cache):
    visitor = Client(raise_request_exception=False)
    for page in PAGES:
        url = content[page].get_absolute_url() if page in content else page
        first = visitor.get(url)
        with CaptureQueriesContext(connection) as again:
            second = visitor.get(url)
        assert first.status_code == second.status_code == HTTPStatus.OK, url
        assert first.page_cache is None and second.page_cache is None, url  # nor stored
        assert len(again.captured_queries) > 0, url  # built afresh, not from any cache


def edit_title(admin_client, article, title):
    """Change an article's title through its admin change form, as staff would."""
    change_url = f"/{django_settings.ADMIN_URL}pages/article/{article.pk}/change/"
    page = admin_client.get(change_url)
    assert page.status_code == HTTPStatus.OK
    data = {"_save": ["Save"]}
    for name, value in replace_field(
        form_fields(page.content.decode(), "article_form"), "title", title
    ):
        data.setdefault(name, []).append(value)
    saved = admin_client.post(change_url, data)
    assert saved.status_code == HTTPStatus.FOUND, saved.content.decode()[-2000:]
    article.refresh_from_db()
    assert article.title == title


def test_an_admin_edit_saves_and_shows(content, admin_client, broken_cache):
    article = content["article"]
    edit_title(admin_client, article, "Edited while the cache was out")
    html = Client().get(article.get_absolute_url()).content.decode()
    assert "Edited while the cache was out" in html


def test_health_check_says_degraded_but_keeps_the_app_in_service(broken_cache, client):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.content == b"ok, cache degraded"


def test_an_edit_made_while_redis_is_full_is_not_hidden_by_a_page_cached_before(
    private_redis, admin_client, content, django_capture_on_commit_callbacks
):
    """Redis keeps serving what it holds when it refuses writes: the version bump that an
    edit cannot make must not leave the pages cached before it looking current."""
    article = content["article"]
    with override_settings(CACHES=private_redis.cache_settings()):
        visitor = Client()
        url = article.get_absolute_url()
        assert visitor.get(url).page_cache == "miss"
        assert visitor.get(url).page_cache == "hit"
        assert cache.get(VERSION_KEY) is not None
        private_redis.fill()
        # The test's transaction never commits: the bump waiting for it runs here.
        with django_capture_on_commit_callbacks(execute=True):
            edit_title(admin_client, article, "Edited while Redis was full")
        after = visitor.get(url)
        assert after.status_code == HTTPStatus.OK and after.page_cache is None
        assert "Edited while Redis was full" in after.content.decode()
