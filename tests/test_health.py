"""``/healthz``: 200 "ok" when the database and the cache answer, 503 otherwise."""

from http import HTTPStatus
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from .smtp_server import closed_port

pytestmark = pytest.mark.django_db

URL = "/healthz"


def assert_bare(response):
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    control = response["Cache-Control"]
    assert "no-store" in control and "no-cache" in control and "private" in control
    assert not response.cookies
    assert "X-Page-Cache" not in response  # never from, nor into, the page cache
    assert "Vary" not in response or "Cookie" not in response["Vary"]


def test_healthy(client):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b"ok"
    assert_bare(response)
    again = client.get(URL)  # not served from any cache: checked afresh
    assert again.status_code == HTTPStatus.OK and "X-Page-Cache" not in again
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


def test_cache_down(client):
    port = closed_port()
    redis_nobody_runs = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    with override_settings(CACHES=redis_nobody_runs):  # restored before the cache is cleared
        response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.content == b"unavailable"
    assert_bare(response)
    assert str(port) not in response.content.decode()
