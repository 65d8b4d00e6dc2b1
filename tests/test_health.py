"""``/healthz``: 200 "ok" when the database and the cache answer, 200 "ok, cache degraded"
when only the cache fails, 503 when the database fails."""

from http import HTTPStatus
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from clinic_site import cache as fail_soft_cache

from .conftest import REDIS_BACKEND
from .smtp_server import closed_port

pytestmark = pytest.mark.django_db

URL = "/healthz"


def assert_bare(response):
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    control = response["Cache-Control"]
    assert "no-store" in control and "no-cache" in control and "private" in control
    assert not response.cookies
    assert response.page_cache is None  # never from, nor into, the page cache
    assert "Vary" not in response or "Cookie" not in response["Vary"]


def test_healthy(client):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b"ok"
    assert_bare(response)
    again = client.get(URL)  # not served from any cache: checked afresh
    assert again.status_code == HTTPStatus.OK and again.page_cache is None
    assert client.head(URL).status_code == HTTPStatus.OK


def test_only_reads(client):
    assert client.post(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_database_down(client, caplog):
    secret = "password authentication failed for user clinic at db.internal:5432"
    with mock.patch("django.db.connection.cursor", side_effect=OperationalError(secret)):
        response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.content == b"unavailable"
    assert_bare(response)
    assert "OperationalError" in caplog.text  # the reason is in the log, not the body
    assert secret not in caplog.text


def redis_nobody_runs() -> dict:
    """The project's Redis backend, on a port where nothing listens."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    return {"default": {"BACKEND": REDIS_BACKEND, "LOCATION": location}}


def test_cache_down_is_reported_but_the_app_stays_in_service(client, caplog, monkeypatch):
    monkeypatch.setattr(fail_soft_cache, "_last_warning", {})  # no earlier test's warning
    caches = redis_nobody_runs()
    with override_settings(CACHES=caches):  # restored before the cache is cleared
        response = client.get(URL)
    assert response.status_code == HTTPStatus.OK  # pages are built from the database
    assert response.content == b"ok, cache degraded"
    assert_bare(response)
    assert "ConnectionError" in caplog.text  # the reason is in the log, not the body
    assert caches["default"]["LOCATION"] not in caplog.text


def test_database_down_with_the_cache_down_too(client):
    with (
        override_settings(CACHES=redis_nobody_runs()),
        mock.patch("django.db.connection.cursor", side_effect=OperationalError("down")),
    ):
        response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.content == b"unavailable"
