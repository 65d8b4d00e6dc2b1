"""Staff accounts: "Forgotten your password?" by email (rate limited, the same answer for
every address), a superuser adding a staff member who chooses their own password, and
staff sessions that end when the browser closes or after the idle time."""

import datetime
import ipaddress
import re
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from . import smtp_server as smtp
from .conftest import BASE_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher", "clinic")]

smtp_factory = smtp.smtp_factory
smtp_server = smtp.smtp_server

User = get_user_model()
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "saddle-lantern-river-42"
EMAIL = "dana@backtomotion.example"
IP = "10.0.0.7"
RESET = "/admin/password_reset/"
SAME_ANSWER = "If that email address belongs to a staff account"
LINK = re.compile(r"https?://[^/\s]+(/admin/reset/[^\s]+/)")


@pytest.fixture
def dana():
    user = User.objects.create_user(
        "dana", email=EMAIL, password=PASSWORD, is_staff=True, first_name="Dana"
    )
    user.groups.add(Group.objects.get(name="Front desk"))
    return user


def ask_for_reset(client, email=EMAIL, ip=IP):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, follow=True)


def log_in(client, username, password, ip=IP):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
        follow=True,
    )


def link_path(message) -> str:
    match = LINK.search(message.text)
    assert match, message.text
    return match.group(1)


def choose_password(client, path, password=NEW_PASSWORD, ip=IP):
    """Open the emailed link and set ``password``; the page the person lands on."""
    form = client.get(path, REMOTE_ADDR=ip, follow=True)
    assert form.status_code == HTTPStatus.OK
    assert "Type the password you want twice" in form.text
    set_password_url = form.redirect_chain[-1][0]  # Django hides the token from the page
    return client.post(
        set_password_url,
        {"new_password1": password, "new_password2": password},
        REMOTE_ADDR=ip,
        follow=True,
    )


def assert_no_password_in(message, *passwords):
    for password in passwords:
        assert password not in message.raw


# --------------------------------------------------------------------------- reset


def test_the_login_page_links_to_the_reset(client):
    page = client.get(reverse("admin:login"))
    assert f'href="{RESET}"' in page.text
    assert "Forgotten your login credentials?" in page.text
    form = client.get(RESET)
    assert form.status_code == HTTPStatus.OK
    assert "Clinic website" in form.text  # the admin's own header, not "Django administration"
    assert "have permission" not in form.text  # no empty list of apps beside the form


def test_reset_by_email_end_to_end(client, dana, smtp_server, settings):
    settings.SITE_URL = "https://clinic.example"
    done = ask_for_reset(client, email="Dana@BackToMotion.example")
    assert done.redirect_chain[-1][0] == "/admin/password_reset/done/"
    assert SAME_ANSWER in done.text

    [message] = smtp_server.wait_for(1)
    assert message.rcpt_tos == [EMAIL]
    assert message.subject == "Choose a new password for the Test Motion Clinic website"
    assert "Your username is: dana" in message.text
    assert "https://clinic.example/admin/reset/" in message.text  # SITE_URL, not the Host
    assert_no_password_in(message, PASSWORD)

    landed = choose_password(client, link_path(message))
    assert landed.redirect_chain[-1][0] == reverse("admin:index")
    assert "Your password is saved and you are logged in" in landed.text
    assert "consultation-request-counts" in landed.text  # the front desk's own home

    client.logout()
    assert not log_in(client, "dana", PASSWORD).wsgi_request.user.is_authenticated
    assert log_in(client, "dana", NEW_PASSWORD).wsgi_request.user.is_authenticated
    # The link worked once.
    used = client.get(link_path(message), follow=True)
    assert "This link no longer works" in used.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, dana, smtp_server):
    known = ask_for_reset(client, ip="10.0.0.8")
    unknown = ask_for_reset(client, email="nobody@backtomotion.example", ip="10.0.0.9")
    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.text == known.text
    assert [m.rcpt_tos for m in smtp_server.wait_for(2, timeout=1)] == [[EMAIL]]


def test_accounts_that_are_not_staff_or_inactive_get_no_mail(client, dana, smtp_server):
    User.objects.create_user(
        "old", email="old@backtomotion.example", password=PASSWORD, is_staff=True, is_active=False
    )
    User.objects.create_user("patient", email="pat@backtomotion.example", password=PASSWORD)
    for email in ("old@backtomotion.example", "pat@backtomotion.example"):
        assert SAME_ANSWER in ask_for_reset(client, email=email).text
    assert smtp_server.wait_for(1, timeout=0.5) == []


def test_at_most_three_emails_an_hour_for_one_address(client, dana, smtp_server, caplog):
    for n in range(5):
        answer = ask_for_reset(client, email=EMAIL.upper(), ip=f"10.0.1.{n}")
        assert SAME_ANSWER in answer.text
    assert len(smtp_server.wait_for(4, timeout=1)) == 3
    limited = [r for r in caplog.records if "Password reset email not sent" in r.getMessage()]
    assert [r.getMessage() for r in limited] == [
        "Password reset email not sent: over 3 requests an hour for one email address"
    ] * 2
    for record in caplog.records:
        assert "dana@" not in record.getMessage().lower()


def test_at_most_ten_requests_an_hour_from_one_client(client, dana, smtp_server, caplog):
    for n in range(10):
        ask_for_reset(client, email=f"someone{n}@backtomotion.example")
    assert SAME_ANSWER in ask_for_reset(client).text  # dana's own address, but the 11th
    assert smtp_server.wait_for(1, timeout=0.5) == []
    assert "not sent: over 10 requests an hour from one client" in caplog.text
    assert IP not in caplog.text
    # Another client may still ask.
    ask_for_reset(client, ip="10.0.0.99")
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[EMAIL]]


def test_behind_the_trusted_proxy_each_client_is_counted_on_its_own(
    client, dana, smtp_server, settings
):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    for n in range(10):
        client.post(
            RESET,
            {"email": f"x{n}@backtomotion.example"},
            REMOTE_ADDR="127.0.0.1",
            headers={"X-Forwarded-For": "192.0.2.1"},
        )
    client.post(
        RESET, {"email": EMAIL}, REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": "192.0.2.1"}
    )
    assert smtp_server.wait_for(1, timeout=0.5) == []
    client.post(
        RESET, {"email": EMAIL}, REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": "192.0.2.2"}
    )
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[EMAIL]]


def test_a_cache_that_cannot_count_sends_nothing(client, dana, smtp_server, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "clinic_site.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{smtp.closed_port()}/14",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert SAME_ANSWER in ask_for_reset(client).text
    assert smtp_server.wait_for(1, timeout=0.5) == []
    assert "not sent: the cache could not count the requests" in caplog.text


@pytest.mark.locmem_cache
def test_the_limit_ends_after_an_hour(client, dana, smtp_server, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for _ in range(4):
        ask_for_reset(client)
    assert len(smtp_server.wait_for(4, timeout=1)) == 3
    time_machine.shift(3601)
    ask_for_reset(client)
    assert len(smtp_server.wait_for(4)) == 4


def test_a_locked_out_person_gets_back_in_with_a_new_password(client, dana, smtp_server):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "dana", "wrong-password")
    locked = log_in(client, "dana", PASSWORD)
    assert "Login locked for now" in locked.text
    assert f'href="{RESET}"' in locked.text  # the lockout page says how

    ask_for_reset(client)
    [message] = smtp_server.wait_for(1)
    landed = choose_password(client, link_path(message))
    assert landed.wsgi_request.user.is_authenticated
    client.logout()
    assert log_in(client, "dana", NEW_PASSWORD).wsgi_request.user.is_authenticated


# --------------------------------------------------------------------------- new staff

NEW_STAFF = "/admin/auth/user/new-staff/"


def new_staff(client, **overrides):
    data = {
        "first_name": "Robin",
        "last_name": "Alvarez",
        "email": "Robin.Alvarez@BackToMotion.example",
        "role": "content_editor",
        **overrides,
    }
    return client.post(NEW_STAFF, data, follow=True)


def test_users_list_and_admin_home_link_to_the_new_staff_form(admin_client):
    assert f'href="{NEW_STAFF}"' in admin_client.get(reverse("admin:auth_user_changelist")).text
    assert f'href="{NEW_STAFF}"' in admin_client.get(reverse("admin:index")).text
    form = admin_client.get(NEW_STAFF)
    assert form.status_code == HTTPStatus.OK
    assert "Front desk: consultation requests" in form.text
    assert "it is also their username" in form.text


def test_a_superuser_adds_a_staff_member_who_chooses_a_password(admin_client, client, smtp_server):
    done = new_staff(admin_client)
    robin = User.objects.get(email="robin.alvarez@backtomotion.example")
    assert done.redirect_chain[-1][0] == reverse("admin:auth_user_change", args=[robin.pk])
    assert "we have emailed robin.alvarez@backtomotion.example a link" in done.text
    assert robin.username == "robin.alvarez@backtomotion.example"
    assert (robin.first_name, robin.last_name) == ("Robin", "Alvarez")
    assert robin.is_staff and robin.is_active and not robin.is_superuser
    assert not robin.has_usable_password()
    assert [g.name for g in robin.groups.all()] == ["Content editors"]

    [message] = smtp_server.wait_for(1)
    assert message.rcpt_tos == ["robin.alvarez@backtomotion.example"]
    assert message.subject == "Your account on the Test Motion Clinic website"
    assert "as Content editors" in message.text
    assert "Your username is: robin.alvarez@backtomotion.example" in message.text

    landed = choose_password(client, link_path(message))
    assert landed.redirect_chain[-1][0] == reverse("admin:index")
    assert landed.wsgi_request.user == robin
    assert 'id="content-summary"' in landed.text  # an editor's home
    assert "consultation-request-counts" not in landed.text
    client.logout()
    again = log_in(client, "robin.alvarez@backtomotion.example", NEW_PASSWORD)
    assert again.wsgi_request.user == robin


def test_front_desk_role(admin_client, smtp_server):
    new_staff(admin_client, role="front_desk", email="sam@backtomotion.example")
    sam = User.objects.get(username="sam@backtomotion.example")
    assert [g.name for g in sam.groups.all()] == ["Front desk"]
    assert "as Front desk" in smtp_server.wait_for(1)[0].text


def test_manager_role_sees_the_insight_dashboard(admin_client, client, smtp_server):
    new_staff(admin_client, role="manager", email="lee@backtomotion.example")
    lee = User.objects.get(username="lee@backtomotion.example")
    assert [g.name for g in lee.groups.all()] == ["Managers"]
    assert lee.has_perm("contact.view_insight")
    assert not lee.has_perm("contact.change_consultationrequest")
    client.force_login(lee)
    assert client.get("/admin/insight/").status_code == 200


def test_an_address_that_already_has_an_account_is_refused(admin_client, dana, smtp_server):
    refused = new_staff(admin_client, email="DANA@backtomotion.example")
    assert "There is already an account with this email address" in refused.text
    assert User.objects.filter(email__iexact=EMAIL).count() == 1
    assert smtp_server.wait_for(1, timeout=0.5) == []


def test_missing_fields_say_what_to_fill_in(admin_client):
    refused = admin_client.post(NEW_STAFF, {"email": "not an address"})
    assert "Please correct the errors below." in refused.text
    assert "Enter a valid email address." in refused.text
    assert refused.text.count("This field is required.") == 2  # first name and role


def test_only_superusers_may_add_staff_or_open_users(client, dana):
    # Even a group that was given every permission on users and groups.
    front_desk = Group.objects.get(name="Front desk")
    front_desk.permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", content_type__model="user")
    )
    client.force_login(dana)
    for url in (NEW_STAFF, reverse("admin:auth_user_changelist"), reverse("admin:auth_user_add")):
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    assert client.post(NEW_STAFF, {"first_name": "X"}).status_code == HTTPStatus.FORBIDDEN
    assert not User.objects.filter(first_name="X").exists()
    assert client.get(reverse("admin:auth_group_changelist")).status_code == HTTPStatus.FORBIDDEN
    assert f'href="{reverse("admin:auth_user_changelist")}"' not in client.get("/admin/").text


def test_a_failed_email_is_said_and_can_be_sent_again(admin_client, smtp_factory, settings):
    smtp.use_smtp(settings, smtp.closed_port(), timeout=1)
    failed = new_staff(admin_client)
    assert "could not be sent" in failed.text
    robin = User.objects.get(email="robin.alvarez@backtomotion.example")

    server = smtp_factory()
    resent = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "email_set_password_link", "_selected_action": [robin.pk]},
        follow=True,
    )
    assert "Emailed a link to choose a password to 1 people." in resent.text
    [message] = server.wait_for(1)
    assert message.rcpt_tos == [robin.email]


# --------------------------------------------------------------------------- sessions


def test_the_session_cookie_ends_with_the_browser(client, dana):
    response = client.post(
        reverse("admin:login"), {"username": "dana", "password": PASSWORD}, REMOTE_ADDR=IP
    )
    assert response.status_code == HTTPStatus.FOUND
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert "expires" not in cookie.output().lower()
    assert "max-age" not in cookie.output().lower()


def test_an_idle_session_is_logged_out_and_activity_keeps_it(client, dana, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    log_in(client, "dana", PASSWORD)
    idle = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
    assert settings.SESSION_COOKIE_AGE == idle == 8 * 3600  # the default
    for _ in range(3):  # each visit restarts the idle time: 3 x 7 hours logged in
        time_machine.shift(idle - 3600)
        assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK
    time_machine.shift(idle + 1)
    response = client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("admin:login"))


def test_public_pages_set_no_cookie_and_a_made_up_one_makes_no_session(client):
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    made_up = client.get("/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={'a' * 32}")
    assert not made_up.cookies
    assert not Session.objects.exists()


def test_a_working_session_is_saved_at_most_once_a_minute(client, dana, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    log_in(client, "dana", PASSWORD)
    [session] = Session.objects.all()
    expires = session.expire_date
    time_machine.shift(30)
    assert settings.SESSION_COOKIE_NAME not in client.get(reverse("admin:index")).cookies
    assert Session.objects.get().expire_date == expires
    time_machine.shift(31)
    assert settings.SESSION_COOKIE_NAME in client.get(reverse("admin:index")).cookies
    assert Session.objects.get().expire_date == expires + datetime.timedelta(seconds=61)


def run_settings(**env) -> str:
    code = "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={"DJANGO_SETTINGS_MODULE": "clinic_site.settings", "PATH": "/usr/bin", **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or result.stderr


def test_the_idle_time_is_configurable():
    assert run_settings(STAFF_IDLE_TIMEOUT_MINUTES="30") == "1800"
    assert "STAFF_IDLE_TIMEOUT_MINUTES must be 1 or more" in run_settings(
        STAFF_IDLE_TIMEOUT_MINUTES="0"
    )
