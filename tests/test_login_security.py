"""Admin login hardening: django-axes lockout, the client address it counts by, ADMIN_URL,
and the password validators."""

import importlib
import ipaddress

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import clear_url_caches, reverse
from django.utils import timezone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PASSWORD = "correct-horse-battery"
LOCKED_TEXT = "Login locked for now"
IP_A = "10.0.0.1"
IP_B = "10.0.0.2"


@pytest.fixture
def frontdesk():
    return get_user_model().objects.create_user("frontdesk", password=PASSWORD, is_staff=True)


def login(client, password, ip=IP_A, **headers):
    """POST the admin login form from REMOTE_ADDR ``ip``; extra headers as ``headers``."""
    return client.post(
        reverse("admin:login"),
        {"username": "frontdesk", "password": password},
        REMOTE_ADDR=ip,
        headers=headers,
    )


def logged_in(response):
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def fail(client, times, **kwargs):
    """``times`` wrong passwords; the fifth in a row already answers with the lockout page."""
    for n in range(1, times + 1):
        response = login(client, "wrong-password", **kwargs)
        if n < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200  # the login form again, with its error
            assert LOCKED_TEXT not in response.text
        else:
            assert_locked(response)


def assert_locked(response):
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert response.status_code in (403, 429)
    assert LOCKED_TEXT in response.text
    assert "frontdesk" in response.text
    assert "Try again in 60 minutes" in response.text
    assert "website administrator" in response.text
    assert not response.wsgi_request.user.is_authenticated


def test_five_failures_lock_the_username_from_that_address(client, frontdesk):
    fail(client, 5)
    assert_locked(login(client, PASSWORD))


def test_lockout_page_looks_like_admin_and_is_not_indexed(client, frontdesk):
    fail(client, 5)
    response = login(client, PASSWORD)
    assert "admin/css/login.css" in response.text
    assert '<meta name="robots" content="NONE,NOARCHIVE">' in response.text


def test_other_addresses_can_still_log_in_as_that_user(client, frontdesk):
    fail(client, 5)
    assert logged_in(login(client, PASSWORD, ip=IP_B))


def test_a_success_before_the_limit_resets_the_count(client, frontdesk):
    fail(client, 4)
    assert logged_in(login(client, PASSWORD))
    client.logout()
    fail(client, 4)
    assert logged_in(login(client, PASSWORD))


def test_the_lock_ends_after_the_cool_off(client, frontdesk, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    fail(client, 5)
    assert_locked(login(client, PASSWORD))
    time_machine.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 1)
    assert logged_in(login(client, PASSWORD))


def test_client_sent_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, frontdesk):
    assert settings.TRUSTED_PROXIES == []
    for n in range(4):
        response = login(client, "wrong-password", X_Forwarded_For=f"192.0.2.{n}")
        assert LOCKED_TEXT not in response.text
    assert_locked(login(client, "wrong-password", X_Forwarded_For="192.0.2.99"))
    assert_locked(login(client, PASSWORD, X_Forwarded_For="198.51.100.7"))


def test_behind_the_trusted_proxy_the_address_nginx_appended_counts(client, frontdesk, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    # Both come through nginx (REMOTE_ADDR 127.0.0.1); nginx appends the real client's
    # address to whatever X-Forwarded-For the client sent, which changes every time.
    for n in range(4):
        response = login(
            client, "wrong-password", ip="127.0.0.1", X_Forwarded_For=f"192.0.2.{n}, {IP_A}"
        )
        assert LOCKED_TEXT not in response.text
    assert_locked(login(client, "wrong-password", ip="127.0.0.1", X_Forwarded_For=IP_A))
    assert_locked(login(client, PASSWORD, ip="127.0.0.1", X_Forwarded_For=f"1.2.3.4, {IP_A}"))
    # Another client behind the same proxy is counted on its own.
    assert logged_in(login(client, PASSWORD, ip="127.0.0.1", X_Forwarded_For=IP_B))


def test_a_client_that_is_not_the_proxy_cannot_lock_another_address_out(
    client, frontdesk, settings
):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    # Straight to the app from IP_B, naming the victim's address (and nginx's) each time.
    for forged in (IP_A, f"127.0.0.1, {IP_A}", IP_A, f"192.0.2.9, {IP_A}"):
        response = login(client, "wrong-password", ip=IP_B, X_Forwarded_For=forged)
        assert LOCKED_TEXT not in response.text
    assert_locked(login(client, "wrong-password", ip=IP_B, X_Forwarded_For=IP_A))
    # The victim, behind nginx, still logs in.
    assert logged_in(login(client, PASSWORD, ip="127.0.0.1", X_Forwarded_For=IP_A))


def test_admin_url_moves_the_admin(settings):
    import clinic_site.urls

    settings.ADMIN_URL = "staff-area/"
    try:
        importlib.reload(clinic_site.urls)
        clear_url_caches()
        assert reverse("admin:index") == "/staff-area/"
        assert reverse("admin:login") == "/staff-area/login/"
    finally:
        settings.ADMIN_URL = "admin/"
        importlib.reload(clinic_site.urls)
        clear_url_caches()
    assert reverse("admin:index") == "/admin/"


def test_robots_txt_never_names_a_custom_admin_path(client, settings):
    import clinic_site.urls

    settings.ADMIN_URL = "staff-area/"
    try:
        importlib.reload(clinic_site.urls)
        clear_url_caches()
        robots = client.get("/robots.txt").text
        assert "staff-area" not in robots  # robots.txt is public: the path stays secret
        assert "Disallow: /admin/" not in robots.splitlines()
        # The admin pages keep crawlers out themselves.
        login_page = client.get("/staff-area/login/").text
        assert '<meta name="robots" content="NONE,NOARCHIVE">' in login_page
    finally:
        settings.ADMIN_URL = "admin/"
        importlib.reload(clinic_site.urls)
        clear_url_caches()


def test_passwords_shorter_than_ten_characters_are_rejected():
    with pytest.raises(ValidationError, match="at least 10 characters"):
        validate_password("Xq7#kP2z!")  # 9 characters
    validate_password("Xq7#kP2z!m")  # 10 characters


def test_login_log_lines_name_no_address_and_no_user_agent(client, frontdesk, caplog):
    caplog.set_level("INFO")
    agent = "Mozilla/5.0 (X11; Linux x86_64) UniqueStaffBrowser/9.1"
    login(client, "wrong password", **{"User-Agent": agent})
    assert logged_in(login(client, PASSWORD, **{"User-Agent": agent}))
    assert "AXES" in caplog.text  # django-axes did log the attempts
    assert "UniqueStaffBrowser" not in caplog.text
    assert IP_A not in caplog.text
