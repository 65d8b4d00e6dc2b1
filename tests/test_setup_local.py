"""`make run`'s first-run set-up: demo content on an empty database, a local admin."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from pages.models import Article

from .factories import ArticleFactory

pytestmark = pytest.mark.django_db


def run_setup():
    out = io.StringIO()
    call_command("setup_local", stdout=out)
    return out.getvalue()


def test_first_run_loads_demo_content_and_prints_a_working_admin_password(settings, client):
    settings.DEBUG = True
    output = run_setup()
    assert Article.objects.count() == 2
    password = re.search(r"password: (\S+)", output).group(1)
    # Through the admin's login form: django-axes' backend needs the request, which
    # client.login() does not pass.
    response = client.post(reverse("admin:login"), {"username": "admin", "password": password})
    assert response.status_code == 302
    assert response.wsgi_request.user.is_authenticated
    again = run_setup()
    assert "password" not in again.split("(")[0]  # not printed a second time
    assert "changepassword admin" in again
    assert get_user_model().objects.count() == 1
    assert Article.objects.count() == 2


def test_existing_content_is_left_alone(settings):
    settings.DEBUG = True
    ArticleFactory(title="Staff wrote this")
    output = run_setup()
    assert "demo content not loaded" in output
    assert list(Article.objects.values_list("title", flat=True)) == ["Staff wrote this"]


def test_no_admin_is_created_when_debug_is_off(settings):
    settings.DEBUG = False
    output = run_setup()
    assert not get_user_model().objects.exists()
    assert "password" not in output
